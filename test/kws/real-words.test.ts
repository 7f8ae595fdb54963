/**
 * Real recordings of a term for `vocab compile --real-speech`: a small transcribed corpus made at test
 * time (espeak-ng), aligned by the real PocketSphinx; the term's place in a sentence agrees with the
 * synthesiser's own timing; utterances without the term, or that cannot be aligned, give nothing; a
 * compile with the corpus uses the occurrences and records it; a wrong manifest is a clear error,
 * exit 78 from the command line with nothing written.
 * (The compiles here read the heads' features only: the real-speech path is the same for both
 * inputs, and the default inputs are tested in head-compile.test.ts.)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { compiledHeadsPathFor, readCompiledHeadsFile } from '../../src/kws/compiled-heads.js';
import { HeadCompiler } from '../../src/kws/head-compile.js';
import { encodeWav } from '../../src/evidence/wav.js';
import { decodeWithSox, loudPart, readRealSpeechManifest, RealSpeech, RealSpeechError, rowsSaying } from '../../src/kws/real-words.js';
import { seededRandom, speechBounds } from '../../src/kws/term-synth.js';
import { NegativeBank } from '../../src/model/negative-bank.js';
import { SpeechEmbedding } from '../../src/model/speech-embedding.js';
import { TermHeads } from '../../src/model/term-heads.js';
import { EX_CONFIG } from '../../src/config/errors.js';
import { EX_USAGE, runCli, tempDir } from '../fixtures/gearhear-cli.js';

const run = promisify(execFile);
const dir = await tempDir(t, 'gearhear-real-words-');

async function say(text: string, name: string, voice = 'en-us'): Promise<string> {
  const file = path.join(dir, `${name}.wav`);
  await run('espeak-ng', ['-v', voice, '-s', '150', '-w', file, text]);
  return file;
}

/** `first` and `rest` said apart and joined by 0.3 s of silence: the first part's speech ends at a known sample. */
async function sayInTwo(first: string, rest: string, name: string, voice: string): Promise<{ file: string; firstEnd: number; restStart: number }> {
  const a = await decodeWithSox(await say(first, `${name}-a`, voice)), b = await decodeWithSox(await say(rest, `${name}-b`, voice));
  const la = loudPart(a)!, lb = loudPart(b)!;
  const gap = new Float32Array(4800), x = new Float32Array(la.end + gap.length + b.length - lb.start);
  x.set(a.subarray(0, la.end));
  x.set(b.subarray(lb.start), la.end + gap.length);
  const file = path.join(dir, `${name}.wav`);
  await writeFile(file, encodeWav(Int16Array.from(x, (v) => Math.round(v * 32767)), 16000));
  return { file, firstEnd: la.end, restStart: la.end + gap.length };
}

const u1 = await sayInTwo('the conveyor jam', 'is near the pump', 'u1', 'en-us');
const u3 = await sayInTwo('we saw a conveyor jam', 'again', 'u3', 'en-gb');
const corpus = [
  { name: 'u1', text: 'the conveyor jam is near the pump', speaker: 'anna' },
  { name: 'u2', text: 'the pump is fine today', speaker: 'anna' },
  { name: 'u3', text: 'we saw a conveyor jam again', speaker: 'ben' },
  { name: 'u4', text: 'the flangeworthy conveyor jam', speaker: 'ben' }, // a word PocketSphinx's dictionary lacks
];
await say(corpus[1]!.text, 'u2');
await say(corpus[3]!.text, 'u4', 'en-gb');
const manifest = path.join(dir, 'manifest.csv');
await writeFile(manifest, 'path,text,speaker\n' + corpus.map((u) => `${u.name}.wav,"${u.text}",${u.speaker}`).join('\n') + '\n');

t.test('the term is found where it was said, in sentences that align', async (t) => {
  const real = await RealSpeech.open(manifest);
  t.equal(real.utterances, 4);
  const found = await real.occurrences('conveyor jam', 10, seededRandom(1));
  t.same(found.map((o) => path.basename(o.file)).sort(), ['u1.wav', 'u3.wav'], 'u2 does not say it; u4 cannot be aligned');
  for (const [o, truth] of [[found.find((x) => x.file.endsWith('u1.wav'))!, u1], [found.find((x) => x.file.endsWith('u3.wav'))!, u3]] as const) {
    // The term's sound ends where the first part's loud speech does (20 dB below its peak, in 20 ms frames): within a frame or two.
    t.ok(o.end >= truth.firstEnd - 640 && o.end <= truth.restStart, `${path.basename(o.file)}: aligned end ${(o.end / 16000).toFixed(3)} s, the term's speech ends at ${(truth.firstEnd / 16000).toFixed(3)} s, the next word starts at ${(truth.restStart / 16000).toFixed(3)} s`);
  }
  const first = found.find((x) => x.file.endsWith('u1.wav'))!;
  t.ok(first.start / 16000 > 0.05 && first.start < first.end, `the term starts after "the" (${(first.start / 16000).toFixed(3)} s)`);
  t.equal(first.speaker, 'anna');
  t.same(await real.occurrences('valve', 10, seededRandom(1)), [], 'a term nobody said: none');
});

t.test('rows of many speakers come first, and a one-word clip is its loud part', async (t) => {
  const rows = ['a', 'a', 'a', 'b', 'c'].map((speaker, i) => ({ file: `f${i}`, text: 'say stop now', speaker }));
  const order = rowsSaying(rows, 'stop', seededRandom(3)).map((r) => r.speaker);
  t.same([...order.slice(0, 3)].sort(), ['a', 'b', 'c'], 'one row of each speaker before a second of any');
  t.equal(order.length, 5);
  const x = new Float32Array(16000);
  for (let i = 4000; i < 9000; i++) x[i] = Math.sin(i / 5) * 0.5;
  const b = loudPart(x)!;
  t.ok(Math.abs(b.start - 4000) <= 320 && Math.abs(b.end - 9000) <= 320, `loud part ${b.start}-${b.end}`);
  t.equal(loudPart(new Float32Array(1000)), null);
});

t.test('a manifest without the columns, or missing, says so', async (t) => {
  const bad = path.join(dir, 'bad.csv');
  await writeFile(bad, 'file,transcript\nu1.wav,hello\n');
  await t.rejects(readRealSpeechManifest(bad), new RealSpeechError(`${bad}: needs a path column and a text (or word) column; its header is "file,transcript"`));
  await t.rejects(RealSpeech.open(path.join(dir, 'none.csv')), { name: 'RealSpeechError', message: /none\.csv: cannot read the real-speech manifest/ });
  const words = path.join(dir, 'words.csv');
  await writeFile(words, 'path,word,speaker\nu1.wav,Stop,x\n');
  t.same((await readRealSpeechManifest(words)).map((r) => r.text), ['stop'], 'a word column serves as the text');
});

t.test('a compile with the corpus uses its occurrences and records it', async (t) => {
  const headsDir = path.resolve(import.meta.dirname, '../../models/gearhear-heads');
  const heads = await TermHeads.load(headsDir);
  const embedding = await SpeechEmbedding.load();
  t.teardown(async () => { await heads.dispose(); await embedding.dispose(); });
  const vocab = path.join(dir, 'site.txt');
  await writeFile(vocab, 'conveyor jam | category=fault severity=high\n');
  const bank = await NegativeBank.load(headsDir);
  const realSpeech = await RealSpeech.open(manifest);
  const r = await new HeadCompiler({ heads, embedding, bank, scorePivot: 0.99, clipsPerTerm: 6, seed: 2, inputs: 'features', realSpeech, realPerTerm: 5, realUnits: 'words', realNegativeMinutes: 0 }).compile(vocab);
  t.equal(r.compiled[0]!.realOccurrences, 2, 'both aligned sentences');
  t.equal(r.compiled[0]!.clips, 6 + 2 * 2, 'each occurrence gives two clips (in its sentence, alone)');
  const file = (await readCompiledHeadsFile(compiledHeadsPathFor(vocab)))!;
  t.same(file.realSpeech, { manifest: `${path.basename(dir)}/manifest.csv`, utterances: 4, perTerm: 5, units: 'words', negativeMinutes: 0 });
  t.equal(r.compiled[0]!.realPieces, 0, 'whole words only: none made of pieces');
  // The corpus's speech without the term as real negatives: u2 (u1, u3 and u4 say it); the fifth utterance would be held out.
  const withNeg = await new HeadCompiler({ heads, embedding, bank, scorePivot: 0.99, clipsPerTerm: 6, seed: 2, inputs: 'features', realSpeech, realPerTerm: 5, realUnits: 'words', realNegativeMinutes: 1 }).compile(vocab);
  const extra = withNeg.compiled[0]!.negatives - r.compiled[0]!.negatives;
  t.ok(extra > 0 && extra < 60, `real negatives added to the fit: ${extra} windows (u2, about 3 s placed)`);
  const synthOnly = await new HeadCompiler({ heads, embedding, bank, scorePivot: 0.99, clipsPerTerm: 6, seed: 2, inputs: 'features' }).compile(vocab);
  t.same(synthOnly.cached, [], 'heads fitted with real speech are not reused by a compile without it');
  t.equal(synthOnly.compiled[0]!.realOccurrences, undefined);
});

t.test('the command line: a wrong manifest exits 78 and writes nothing', async (t) => {
  const vocab = path.join(dir, 'cli.txt');
  await writeFile(vocab, 'conveyor jam | category=fault severity=high\n');
  const missing = await runCli(t, ['vocab', 'compile', vocab, '--real-speech', path.join(dir, 'none.csv'), '--set', 'model.detector=heads']);
  t.equal(missing.code, EX_CONFIG, missing.stderr);
  t.match(missing.stderr, /none\.csv: cannot read the real-speech manifest/);
  t.notOk(existsSync(path.join(dir, 'cli.lexicon.json')), 'no lexicon written');
  const alone = await runCli(t, ['vocab', 'compile', vocab, '--real-per-term', '5']);
  t.equal(alone.code, EX_USAGE);
  t.match(alone.stderr, /--real-per-term needs --real-speech MANIFEST/);
  const units = await runCli(t, ['vocab', 'compile', vocab, '--real-speech', manifest, '--real-units', 'syllables']);
  t.equal(units.code, EX_USAGE);
  t.match(units.stderr, /--real-units must be words, pieces or words\+pieces, got "syllables"/);
});
