/**
 * `vocab compile`'s term heads, in process, with the shipped heads, their negative bank, the real
 * speech embedding and espeak-ng: a term the shipped heads lack gets a head that scores the term
 * (said by flite's SLT voice; the compile here uses espeak-ng's voices only) above a sentence without it; the
 * file is reused when nothing changed; a file for other heads is refused with the command to remake it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { readWavFile } from '../../src/audio/file.js';
import { CompiledHeadsError, compiledHeadsPathFor, loadCompiledHeads } from '../../src/kws/compiled-heads.js';
import { HeadCompiler } from '../../src/kws/head-compile.js';
import { NegativeBank } from '../../src/model/negative-bank.js';
import { INT16_SCALE, SpeechEmbedding } from '../../src/model/speech-embedding.js';
import { TermHeads, windowsEndingAt } from '../../src/model/term-heads.js';
import { sayWithSlt, tempDir } from '../fixtures/gearhear-cli.js';

const headsDir = path.resolve(import.meta.dirname, '../../models/gearhear-heads');
const dir = await tempDir(t, 'gearhear-head-compile-');
const heads = await TermHeads.load(headsDir);
const embedding = await SpeechEmbedding.load();
t.teardown(async () => {
  await heads.dispose();
  await embedding.dispose();
});

/** Highest score of `term` over every window of `file` (as the daemon's stream sees it). */
async function maxScore(h: TermHeads, term: string, file: string): Promise<number> {
  const pcm = Float32Array.from(await readWavFile(file), (x) => x * INT16_SCALE);
  const padded = new Float32Array(pcm.length + 16000);
  padded.set(pcm, 8000);
  const { data, count } = await embedding.embedAsStream(padded);
  const windows = windowsEndingAt(data, await embedding.initialEmbedding(), h.manifest.window, Array.from({ length: count }, (_, k) => k + 1));
  const scores = await h.score(windows, count), col = h.termIndex.get(term)!, n = h.terms.length;
  let best = 0;
  for (let k = 0; k < count; k++) best = Math.max(best, scores[k * n + col]!);
  return best;
}

t.test('a new term gets a head that hears it, and a second compile keeps it', async (t) => {
  const vocab = path.join(dir, 'site.txt');
  await writeFile(vocab, 'cavitation | category=fault severity=high\nconveyor jam | category=fault severity=high\n');
  const bank = await NegativeBank.load(headsDir);
  const compiler = (): HeadCompiler => new HeadCompiler({ heads, embedding, bank, scorePivot: 0.99, clipsPerTerm: 12, seed: 5, voices: new Map() });
  const r = await compiler().compile(vocab);
  t.equal(r.outPath, compiledHeadsPathFor(vocab), 'written beside the vocabulary');
  t.same(r.shipped, ['cavitation'], 'a term with a shipped head is not compiled');
  t.same(r.compiled.map((e) => e.term), ['conveyor jam']);
  t.equal(r.compiled[0]!.clips, 12);
  const view = heads.withCompiled(await loadCompiledHeads(vocab, heads, 'google'));
  t.equal(view.compiledTerms, 1);
  t.equal(view.termIndex.get('conveyor jam'), heads.manifest.terms.length, 'compiled terms come after the shipped ones');
  t.equal(heads.termIndex.has('conveyor jam'), false, 'the shipped heads are unchanged');
  const said = await sayWithSlt('conveyor jam', path.join(dir, 'said.wav'));
  const other = await sayWithSlt('please check the schedule for the second shift before you leave', path.join(dir, 'other.wav'));
  const [hit, miss] = [await maxScore(view, 'conveyor jam', said), await maxScore(view, 'conveyor jam', other)];
  t.ok(hit > miss && hit > 0.5, `the term said scores ${hit.toFixed(3)}, a sentence without it ${miss.toFixed(3)}`);
  t.ok(miss < 0.99, 'the sentence stays below the pivot');

  const file = JSON.parse(await readFile(r.outPath, 'utf8')) as { inputs?: string; featureDim: number; voices: string[]; patienceHops: number };
  t.equal(file.inputs, 'features+window', 'by default a head reads the window too');
  t.equal(file.featureDim, 512 + heads.manifest.window * heads.manifest.dim, "the heads' 512 features, then the window's embeddings");
  t.same(file.voices, ['espeak-ng'], 'the voices used are recorded');

  const again = await compiler().compile(vocab);
  t.same(again.cached, ['conveyor jam'], 'unchanged: kept, not refitted');
  t.same(again.compiled, []);
});

t.test('a compiled file for other heads, or a damaged one, is refused with the command that remakes it', async (t) => {
  const vocab = path.join(dir, 'other.txt');
  await writeFile(vocab, 'conveyor jam\n');
  const good = JSON.parse(await readFile(compiledHeadsPathFor(path.join(dir, 'site.txt')), 'utf8')) as { heads: { sha256: string } };
  good.heads.sha256 = '0'.repeat(64);
  await writeFile(compiledHeadsPathFor(vocab), JSON.stringify(good));
  await t.rejects(loadCompiledHeads(vocab, heads, 'google'), { name: CompiledHeadsError.name, message: /compiled for term heads .* run: gearhear vocab compile .*other\.txt/ });
  await writeFile(compiledHeadsPathFor(vocab), '{"format":"gearhear-compiled-heads/1","heads":{"sha256":"x"},"featureDim":2,"terms":[{"term":"a","bias":0,"weights":[1]}]}');
  await t.rejects(loadCompiledHeads(vocab, heads, 'google'), /other\.heads\.json: not a gearhear-compiled-heads\/1 file.*run: gearhear vocab compile/);
  await writeFile(compiledHeadsPathFor(vocab), '{');
  await t.rejects(loadCompiledHeads(vocab, heads, 'google'), /other\.heads\.json: not JSON/);
  t.same(await loadCompiledHeads(path.join(dir, 'none.txt'), heads, 'google'), [], 'no file: no compiled heads');
  await t.rejects(loadCompiledHeads(path.join(dir, 'site.txt'), heads, 'student-int8'), /fitted on the google speech embedding, but model.embedding is student-int8/);
});
