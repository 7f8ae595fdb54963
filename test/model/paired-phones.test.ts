/**
 * model.phones = both: the raw-audio phone model and the phone head on the speech embedding, their
 * frames side by side after aligning them. Checked on real recorded sentences: the lag the daemon
 * uses is where the two models' frames agree most; streaming in any chunk size gives the same frames;
 * each half is its model's own frames; models that cannot be paired are refused by name.
 */
import path from 'node:path';
import t from 'tap';
import { readWavFile } from '../../src/audio/file.js';
import { EmbeddingPhoneModel } from '../../src/model/embedding-phones.js';
import { PairedPhoneModel } from '../../src/model/paired-phones.js';
import { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { BOTH_LAG_FRAMES, loadPhoneModel } from '../../src/model/phone-model.js';
import type { AcousticModel } from '../../src/model/types.js';
import { readManifest, repoRoot } from '../fixtures/audio-helpers.js';

const kws = await OnnxAcousticModel.load({ dir: path.join(repoRoot, 'models/gearhear-kws'), intraOpThreads: 1 });
const emb = await EmbeddingPhoneModel.load({ dir: path.join(repoRoot, 'models/gearhear-embphones') });
t.teardown(async () => { await kws.dispose(); await emb.dispose(); });

// Real read sentences (train+eval part of ../shared/data), a few seconds each.
const sentences = (await readManifest()).filter((r) => r.kind === 'sentence').slice(0, 6);
const pcms = await Promise.all(sentences.map((r) => readWavFile(r.file)));

/** A model's frames over `pcm`, row-major [frames x tokens·channels]: a paired model's blocks side by side per frame. */
async function frames(m: AcousticModel, pcm: Float32Array, chunk: number): Promise<{ data: Float32Array; count: number; width: number }> {
  const s = m.createStream();
  const parts: Float32Array[] = [];
  let count = 0, width = 0;
  const take = (f: Awaited<ReturnType<typeof s.accept>>): void => {
    if (!f) return;
    if (f.startFrame !== count) throw new Error(`${m.id}: frames out of order (got ${f.startFrame}, expected ${count})`);
    const channels = f.channels ?? 1, V = f.tokens, rows = new Float32Array(f.frames * V * channels);
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < f.frames; i++) rows.set(f.data.subarray((c * f.frames + i) * V, (c * f.frames + i + 1) * V), (i * channels + c) * V);
    }
    parts.push(rows);
    count += f.frames;
    width = V * channels;
  };
  for (let i = 0; i < pcm.length; i += chunk) take(await s.accept(pcm.subarray(i, i + chunk)));
  take(await s.finish());
  const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { data.set(p, o); o += p.length; }
  return { data, count, width };
}

t.test('the lag used is where the two models agree most on real speech', async (t) => {
  const V = kws.tokens.length;
  const agreement = new Map<number, number>();
  for (const pcm of pcms) {
    const a = await frames(kws, pcm, 3200), b = await frames(emb, pcm, 3200);
    for (let lag = -4; lag <= 16; lag++) {
      let sum = 0;
      for (let i = 0; i < a.count; i++) {
        const u = i + lag;
        if (u < 0 || u >= b.count) continue;
        for (let k = 0; k < V; k++) if (k !== kws.blankIndex) sum += Math.exp(a.data[i * V + k]!) * Math.exp(b.data[u * V + k]!);
      }
      agreement.set(lag, (agreement.get(lag) ?? 0) + sum);
    }
  }
  const best = [...agreement].sort((x, y) => y[1] - x[1])[0]![0];
  t.ok(Math.abs(best - BOTH_LAG_FRAMES) <= 1, `non-blank agreement peaks at a lag of ${best} frames (used: ${BOTH_LAG_FRAMES})`);
  t.ok(agreement.get(BOTH_LAG_FRAMES)! > 3 * agreement.get(0)!, 'aligned, the models agree far more than unaligned');
});

t.test('each half is its model\'s frames, aligned; chunking changes nothing', async (t) => {
  const paired = new PairedPhoneModel({ a: kws, b: emb, lagFrames: BOTH_LAG_FRAMES });
  const V = kws.tokens.length, lag = BOTH_LAG_FRAMES;
  const pcm = pcms[1]!;
  const whole = await frames(paired, pcm, pcm.length);
  const small = await frames(paired, pcm, 480);
  const a = await frames(kws, pcm, pcm.length), b = await frames(emb, pcm, pcm.length);
  t.equal(whole.width, 2 * V, 'two models\' tokens per frame');
  t.equal(whole.count, Math.max(b.count, a.count + lag), 'frames on the later model\'s timeline, to the end of both');
  t.equal(small.count, whole.count);
  let chunkDiff = 0, aDiff = 0, bDiff = 0;
  for (let i = 0; i < whole.data.length; i++) chunkDiff = Math.max(chunkDiff, Math.abs(whole.data[i]! - small.data[i]!));
  for (let u = 0; u < whole.count; u++) {
    for (let k = 0; k < V; k++) {
      if (u - lag >= 0 && u - lag < a.count) aDiff = Math.max(aDiff, Math.abs(whole.data[u * 2 * V + k]! - a.data[(u - lag) * V + k]!));
      if (u < b.count) bDiff = Math.max(bDiff, Math.abs(whole.data[u * 2 * V + V + k]! - b.data[u * V + k]!));
    }
  }
  t.ok(chunkDiff < 1e-4, `chunked and whole agree (max difference ${chunkDiff})`);
  t.ok(aDiff < 1e-4 && bDiff < 1e-4, `halves are the models' frames (max differences ${aDiff}, ${bDiff})`);
  t.equal(whole.data[kws.blankIndex], 0, 'before a\'s first frame its row is blank');
});

t.test('models that cannot be paired are refused, naming them', async (t) => {
  const fake = { id: 'other', version: '1', sha256: 'x', blankIndex: 0, frameShiftSec: 0.02, computeSeconds: 0, tokens: ['<blk>', 'AA'], createStream: () => kws.createStream(), dispose: async () => {} };
  t.throws(() => new PairedPhoneModel({ a: kws, b: fake, lagFrames: 10 }), /cannot pair phone models .* and other: their tokens differ/);
  t.throws(() => new PairedPhoneModel({ a: kws, b: { ...fake, tokens: kws.tokens, frameShiftSec: 0.04 }, lagFrames: 10 }), /frame shifts/);
  t.throws(() => new PairedPhoneModel({ a: kws, b: emb, lagFrames: -1 }), /lagFrames/);
});

t.test('model.phones = both loads both and keys calibrations on both', async (t) => {
  const kwsDir = path.join(repoRoot, 'models/gearhear-kws');
  const { model, about } = await loadPhoneModel({ kind: 'both', kws: { dir: kwsDir, intraOpThreads: 1 }, embeddingDir: path.join(repoRoot, 'models/gearhear-embphones') });
  try {
    t.equal(about.phones, 'both');
    t.equal(model.id, `${kws.id}+${emb.id}`);
    t.equal(model.channels, 2);
    t.not(model.sha256, kws.sha256);
    t.not(model.sha256, emb.sha256);
  } finally {
    await model.dispose();
  }
  await t.rejects(loadPhoneModel({ kind: 'both', kws: { dir: kwsDir, intraOpThreads: 1 }, embeddingDir: '/nonexistent/embphones' }), /embedding phone model/);
});
