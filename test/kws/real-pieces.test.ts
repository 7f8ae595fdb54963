/**
 * A term nobody said, put together from real phones of a corpus (`vocab compile --real-speech` tops
 * up terms said too few times whole): a small corpus synthesised at test time (espeak-ng) and aligned
 * phone by phone by the real PocketSphinx; the made term covers its phones from the sentences that
 * have them, never from one that says the term; a phone nobody said gives nothing; the joins keep the
 * level and the length of the pieces.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { joinPieces, PhonePieces, readPronunciations } from '../../src/kws/real-pieces.js';
import { alignPhones, RealSpeech } from '../../src/kws/real-words.js';
import { seededRandom } from '../../src/kws/term-synth.js';
import { tempDir } from '../fixtures/gearhear-cli.js';

const run = promisify(execFile);
const dir = await tempDir(t, 'gearhear-real-pieces-');
const corpus = [
  { name: 'u1', text: 'the bear is here', speaker: 'anna' },
  { name: 'u2', text: 'he was singing', speaker: 'anna' },
  { name: 'u3', text: 'the bearing is worn', speaker: 'ben' }, // says the term: never a source
];
for (const u of corpus) await run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', path.join(dir, `${u.name}.wav`), u.text]);
const manifest = path.join(dir, 'manifest.csv');
await writeFile(manifest, 'path,text,speaker\n' + corpus.map((u) => `${u.name}.wav,${u.text},${u.speaker}`).join('\n') + '\n');

t.test('phone-level alignment gives every phone in order', async (t) => {
  const b = await alignPhones(path.join(dir, 'u1.wav'), ['DH', 'AH', 'B', 'EH', 'R', 'IH', 'Z', 'HH', 'IH', 'R']);
  t.ok(b, 'aligned');
  t.equal(b!.length, 10);
  t.ok(b!.every(([s, e], i) => s < e && (i === 0 || s >= b![i - 1]![1] - 1)), 'each phone after the one before');
  t.equal(await alignPhones(path.join(dir, 'u1.wav'), ['DH', 'XX']), null, 'not a phone: null');
});

t.test('"bearing" is made from "bear" and "singing", never from the sentence that says it', async (t) => {
  const real = await RealSpeech.open(manifest);
  const pieces = PhonePieces.build(real.rows, await readPronunciations());
  t.equal(pieces.utterances, 3);
  const made = await pieces.occurrences('bearing', ['B', 'EH', 'R', 'IH', 'NG'], 4, seededRandom(1));
  t.ok(made.length >= 1, `${made.length} made`);
  for (const o of made) {
    t.equal(o.speaker, 'anna', 'pieces of anna only: ben said the term');
    const sec = (o.end - o.start) / 16000;
    t.ok(sec > 0.15 && sec < 1, `the made term lasts ${sec.toFixed(2)} s`);
    t.ok(o.start > 0 && o.end <= o.speech.length, 'the speech before the first piece is kept as context');
  }
  t.same(await pieces.occurrences('zhuzh', ['ZH', 'UH', 'ZH'], 4, seededRandom(1)), [], 'a phone nobody said: nothing');
});

t.test('joins keep the first piece\'s level and overlap by 5 ms', async (t) => {
  const a = new Float32Array(800).fill(0.5), b = new Float32Array(800).fill(0.1);
  const j = joinPieces([a, b]);
  t.equal(j.length, 1600 - 80);
  t.ok(Math.abs(j[1500]! - 0.5) < 1e-6, 'the second piece at the first one\'s level');
  for (let i = 1; i < j.length; i++) if (Math.abs(j[i]! - j[i - 1]!) > 0.01) t.fail(`a step at ${i}`);
  t.same(joinPieces([]), new Float32Array(0));
});
