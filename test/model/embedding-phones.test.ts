/**
 * The phone head on the speech embedding (models/gearhear-embphones): streaming hop by hop with the
 * carried state gives the same frames as one call over the whole segment, whatever the chunk sizes;
 * four 20 ms frames per embedding; log-probabilities; a damaged or foreign file is refused with a
 * message naming it; speech is decoded into phones and silence into blanks.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EmbeddingPhoneModel } from '../../src/model/embedding-phones.js';
import { SpeechEmbedding } from '../../src/model/speech-embedding.js';
import { readWavFile } from '../../src/audio/file.js';
import { repoRoot } from '../fixtures/audio-helpers.js';

const DIR = path.join(repoRoot, 'models/gearhear-embphones');
const model = await EmbeddingPhoneModel.load({ dir: DIR });
t.teardown(() => model.dispose());

async function frames(pcm: Float32Array, chunk: number): Promise<{ data: number[]; starts: number[] }> {
  const s = model.createStream();
  const data: number[] = [], starts: number[] = [];
  for (let i = 0; i < pcm.length; i += chunk) {
    const f = await s.accept(pcm.subarray(i, i + chunk));
    if (f) { starts.push(f.startFrame); data.push(...f.data); }
  }
  const f = await s.finish();
  if (f) data.push(...f.data);
  return { data, starts };
}

async function sayWithSlt(text: string): Promise<Float32Array> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-embphones-'));
  try {
    const raw = path.join(dir, 'raw.wav'), wav = path.join(dir, 'say.wav');
    execFileSync('flite', ['-voice', 'slt', '-t', text, '-o', raw]);
    execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', wav, 'pad', '0.5', '0.8']);
    return await readWavFile(wav);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function greedy(data: number[], tokens: readonly string[]): string[] {
  const out: string[] = [];
  let last = 0;
  for (let f = 0; f < data.length / tokens.length; f++) {
    const row = data.slice(f * tokens.length, (f + 1) * tokens.length);
    const k = row.indexOf(Math.max(...row));
    if (k !== last && k !== 0) out.push(tokens[k]!);
    last = k;
  }
  return out;
}

t.test('frames: four per 80 ms hop, rows are log-probabilities, chunking does not change them', async (t) => {
  t.equal(model.frameShiftSec, 0.02);
  t.equal(model.tokens[model.blankIndex], '<blk>');
  const pcm = await sayWithSlt('check the bearing');
  const whole = await frames(pcm, pcm.length);
  t.equal(whole.data.length, Math.floor(pcm.length / 1280) * 4 * model.tokens.length, 'floor(n / 1280) hops x 4 frames');
  const row = whole.data.slice(0, model.tokens.length);
  t.ok(Math.abs(row.reduce((a, v) => a + Math.exp(v), 0) - 1) < 1e-3, 'a row sums to 1 in probability');
  for (const chunk of [1600, 999, 4000]) {
    const c = await frames(pcm, chunk);
    t.equal(c.data.length, whole.data.length, `chunks of ${chunk}: as many frames`);
    t.ok(c.data.every((v, i) => Math.abs(v - whole.data[i]!) < 1e-3), `chunks of ${chunk}: the same log-probs`);
    t.same(c.starts, [...c.starts].sort((a, b) => a - b), 'startFrame increases');
  }
});

t.test('speech decodes into phones of the words, silence into blanks', async (t) => {
  const heard = greedy((await frames(await sayWithSlt('the pump is leaking oil'), 1600)).data, model.tokens);
  t.ok(heard.length >= 8, `phones heard: ${heard.join(' ')}`);
  for (const p of ['P', 'L', 'NG']) t.ok(heard.includes(p), `${p} (in "pump ... leaking") is among them`);
  const silent = greedy((await frames(new Float32Array(16000 * 2), 1600)).data, model.tokens);
  t.ok(silent.length <= 1, `2 s of silence: at most one phone (${silent.join(' ')})`);
});

t.test('a damaged ONNX file or a manifest of another kind is refused, naming the file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-embphones-bad-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const manifest = JSON.parse(await readFile(path.join(DIR, 'model.json'), 'utf8')) as { file: string; kind: string };
  await copyFile(path.join(DIR, 'model.json'), path.join(dir, 'model.json'));
  const onnx = await readFile(path.join(DIR, manifest.file));
  onnx[onnx.length >> 1] ^= 0xff;
  await writeFile(path.join(dir, manifest.file), onnx);
  await t.rejects(EmbeddingPhoneModel.load({ dir }), { name: 'ModelLoadError', message: new RegExp(`${manifest.file} has SHA-256`) });
  await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...manifest, kind: 'acoustic' }));
  await t.rejects(EmbeddingPhoneModel.load({ dir }), /not an embedding-phones model\.json/);
  await t.rejects(EmbeddingPhoneModel.load({ dir: path.join(dir, 'missing') }), /cannot read .*model\.json.*model\.phones=kws/);
});

t.test('a shared embedding is used, not loaded again, and is left to its owner', async (t) => {
  const embedding = await SpeechEmbedding.load();
  const shared = await EmbeddingPhoneModel.load({ dir: DIR, embedding });
  const s = shared.createStream();
  await s.accept(new Float32Array(1280 * 3));
  t.ok(embedding.computeSeconds > 0, 'the shared embedding did the work');
  await shared.dispose();
  t.ok((await embedding.embed(new Float32Array(76 * 32).fill(1), 1)).length === 96, 'still usable after the phone model is disposed');
  await embedding.dispose();
});
