/**
 * The speech-embedding runner (openWakeWord's mel + embedding ONNX files from the npm package),
 * checked against the reference algorithm's definitions on fixed inputs: 1280 samples -> 8 mel
 * frames (5 on the very first hop), x/10 + 2 transform, 76-frame windows, one 96-dim embedding per
 * 80 ms, and the streaming path agreeing with the whole-clip path on the same frames.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import {
  defaultEmbeddingDir, EMBEDDING_DIM, EMBEDDING_FILE, HOP_SAMPLES, MEL_BINS, MEL_FILE, MEL_WINDOW, SpeechEmbedding,
} from '../../src/model/speech-embedding.js';
import { ModelLoadError } from '../../src/model/manifest.js';

/** A fixed, deterministic test signal: a chirp plus seeded noise, in [-1, 1]. */
function fixedSignal(n: number): Float32Array {
  const x = new Float32Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const f = 200 + (3000 * i) / n;
    x[i] = 0.3 * Math.sin((2 * Math.PI * f * i) / 16000) + 0.05 * (seed / 0x7fffffff - 0.5);
  }
  return x;
}

const model = await SpeechEmbedding.load();
t.teardown(() => model.dispose());

t.test('mel model: int16-range input, ceil(n/160 - 3) frames, 32 bins, a tone lands in its band', async (t) => {
  for (const n of [1280, 1760, 16000]) {
    const spec = await model.melFrames(new Float32Array(n));
    t.equal(spec.length / MEL_BINS, Math.ceil(n / 160 - 3), `${n} samples`);
  }
  const tone = (hz: number): Float32Array => Float32Array.from({ length: 16000 }, (_, i) => 10000 * Math.sin((2 * Math.PI * hz * i) / 16000));
  const peakBin = (spec: Float32Array): number => {
    const frame = spec.subarray(40 * MEL_BINS, 41 * MEL_BINS);
    return frame.indexOf(Math.max(...frame));
  };
  const low = peakBin(await model.melFrames(tone(300)));
  const high = peakBin(await model.melFrames(tone(3000)));
  t.ok(high > low + 5, `3 kHz peaks in a higher mel bin (${high}) than 300 Hz (${low})`);
  const silence = await model.melFrames(new Float32Array(16000));
  const loud = await model.melFrames(tone(1000));
  t.ok(Math.max(...loud) > Math.max(...silence) + 1, 'a loud tone has more mel energy than silence (scale is int16, not [-1, 1])');
});

t.test('stream: one embedding per 1280 samples, whatever the chunk sizes', async (t) => {
  const x = fixedSignal(HOP_SAMPLES * 14 + 700);
  const s = model.createStream();
  let count = 0;
  for (let i = 0; i < x.length; i += 333) count += (await s.accept(x.subarray(i, Math.min(x.length, i + 333)))).count;
  t.equal(count, 14);
  t.equal(s.count, 14);
  const a = model.createStream();
  const whole = await a.accept(x);
  t.equal(whole.data.length, 14 * EMBEDDING_DIM);
});

t.test('stream matches the whole-clip mel and embedding on the same frames', async (t) => {
  const hops = 16;
  const x = fixedSignal(HOP_SAMPLES * hops);
  const s = model.createStream();
  const streamed = await s.accept(x);
  const scaled = x.map((v) => v * 32767);
  const spec = await model.melFrames(scaled);
  t.equal(spec.length / MEL_BINS, 8 * hops - 3, 'whole clip: 8 frames per hop less 3');
  let worst = 0;
  for (let k = 10; k <= hops; k++) {
    // After hop k the stream's window is the last 76 of the 8k - 3 frames so far.
    const end = 8 * k - 3;
    const window = spec.slice((end - MEL_WINDOW) * MEL_BINS, end * MEL_BINS);
    const ref = await model.embed(window, 1);
    const got = streamed.data.subarray((k - 1) * EMBEDDING_DIM, k * EMBEDDING_DIM);
    for (let d = 0; d < EMBEDDING_DIM; d++) worst = Math.max(worst, Math.abs(ref[d]! - got[d]!) / (1 + Math.abs(ref[d]!)));
  }
  t.ok(worst < 1e-3, `relative difference ${worst.toExponential(2)} < 1e-3`);
  const clip = await model.embedClip(x);
  t.equal(clip.count, Math.floor((8 * hops - 3 - MEL_WINDOW) / 8) + 1, 'whole-clip windows step by 8');
});

t.test('a fresh stream starts from a mel buffer of ones, as the reference does', async (t) => {
  const s = model.createStream();
  const first = await s.accept(new Float32Array(HOP_SAMPLES));
  const ones = new Float32Array(MEL_WINDOW * MEL_BINS).fill(1);
  const spec = await model.melFrames(new Float32Array(HOP_SAMPLES));
  ones.set(spec, (MEL_WINDOW - spec.length / MEL_BINS) * MEL_BINS);
  const ref = await model.embed(ones, 1);
  t.same(Array.from(first.data).map((v) => v.toFixed(4)), Array.from(ref).map((v) => v.toFixed(4)));
});

t.test('a missing or broken model file is a ModelLoadError naming the file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-emb-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(SpeechEmbedding.load({ dir }), { name: 'ModelLoadError', message: new RegExp(MEL_FILE) });
  await cp(path.join(defaultEmbeddingDir(), MEL_FILE), path.join(dir, MEL_FILE));
  await writeFile(path.join(dir, EMBEDDING_FILE), 'not an onnx file');
  const err = await SpeechEmbedding.load({ dir }).then(() => null, (e: unknown) => e);
  t.type(err, ModelLoadError);
  t.match((err as Error).message, path.join(dir, EMBEDDING_FILE));
});
