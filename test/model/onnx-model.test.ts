/**
 * The ONNX acoustic model as shipped: manifest validation, integrity checks, and the streaming
 * runner against one run over the whole buffer, on speech synthesised at test time.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { readWavFile } from '../../src/audio/file.js';
import { framesFor, ModelLoadError, OnnxAcousticModel, readManifest, type ModelManifest } from '../../src/model/index.js';
import type { FrameLogProbs } from '../../src/model/types.js';
import { sayWithSlt, shippedModelDir, tempDir } from '../fixtures/gearhear-cli.js';

const shipped = JSON.parse(await readFile(path.join(shippedModelDir, 'model.json'), 'utf8')) as ModelManifest;

/** A model folder holding model.json with `manifest` (no ONNX files unless copied in). */
async function modelDir(root: string, name: string, manifest: unknown): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return dir;
}

t.test('manifest errors name model.json and what is wrong', async (t) => {
  const root = await tempDir(t, 'gearhear-model-');
  const expectError = async (dir: string, pattern: RegExp): Promise<void> => {
    const file = path.join(dir, 'model.json');
    const err = await readManifest(dir).then(() => null, (e: unknown) => e);
    t.type(err, ModelLoadError, `${path.basename(dir)}: a ModelLoadError`);
    t.match((err as Error).message, file, `${path.basename(dir)}: names ${file}`);
    t.match((err as Error).message, pattern, `${path.basename(dir)}: says what is wrong`);
  };
  const missing = path.join(root, 'missing');
  await mkdir(missing);
  await expectError(missing, /cannot read model manifest.*model\.dir/);
  await expectError(await modelDir(root, 'bad-json', '{"schema": 1,'), /not valid JSON/);
  await expectError(await modelDir(root, 'schema-2', { ...shipped, schema: 2 }), /unsupported schema 2/);
  await expectError(await modelDir(root, 'fp16', { ...shipped, variants: { ...shipped.variants, fp16: shipped.variants.fp32 } }), /unknown variant "fp16"/);
  await expectError(await modelDir(root, 'no-tokens', { ...shipped, tokens: 'AA' }), /"tokens"/);
  await expectError(await modelDir(root, 'bad-sha', { ...shipped, variants: { int8: { ...shipped.variants.int8!, sha256: 'abc' } } }), /hex "sha256"/);
});

t.test('a variant the manifest lacks is refused with what it has', async (t) => {
  const root = await tempDir(t, 'gearhear-model-');
  const dir = await modelDir(root, 'fp32-only', { ...shipped, variants: { fp32: shipped.variants.fp32 }, defaultVariant: 'fp32' });
  await t.rejects(OnnxAcousticModel.load({ dir, variant: 'int8' }), { name: 'ModelLoadError', message: /no "int8" variant \(it has: fp32\)/ });
});

t.test('a corrupted ONNX file fails its SHA-256 check, naming the file and the fix', async (t) => {
  const dir = path.join(await tempDir(t, 'gearhear-model-'), 'gearhear-kws');
  await cp(shippedModelDir, dir, { recursive: true });
  for (const variant of ['int8', 'fp32'] as const) {
    const file = path.join(dir, shipped.variants[variant]!.file);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(file, bytes);
    const err = await OnnxAcousticModel.load({ dir, variant }).then(() => null, (e: unknown) => e);
    t.type(err, ModelLoadError, `${variant}: ModelLoadError`);
    const message = (err as Error).message;
    t.match(message, file, `${variant}: names the file`);
    t.match(message, /SHA-256 [0-9a-f]{64} does not match/, `${variant}: says the checksum differs`);
    t.match(message, /Restore it from the release|reinstall/, `${variant}: says how to fix it`);
  }
});

t.test('garbage or truncated ONNX with a matching checksum: onnxruntime error naming the file', async (t) => {
  const root = await tempDir(t, 'gearhear-model-');
  const original = await readFile(path.join(shippedModelDir, shipped.variants.int8!.file));
  const cases: Array<[string, Buffer]> = [
    ['truncated', original.subarray(0, Math.floor(original.length / 3))],
    ['garbage', Buffer.from('this is not an ONNX protobuf at all\n'.repeat(40))],
  ];
  for (const [name, bytes] of cases) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const dir = await modelDir(root, name, { ...shipped, variants: { int8: { file: 'model.int8.onnx', sha256, bytes: bytes.length } }, defaultVariant: 'int8' });
    const file = path.join(dir, 'model.int8.onnx');
    await writeFile(file, bytes);
    const err = await OnnxAcousticModel.load({ dir }).then(() => null, (e: unknown) => e);
    t.type(err, ModelLoadError, `${name}: ModelLoadError`);
    t.match((err as Error).message, `onnxruntime could not load ${file}`, `${name}: names the file`);
  }
});

/** Runs a stream over `pcm` in the given chunk sizes (cycled) and joins its frames. */
async function streamInChunks(model: OnnxAcousticModel, pcm: Float32Array, sizes: number[]): Promise<{ data: Float32Array; frames: number }> {
  const stream = model.createStream();
  const parts: FrameLogProbs[] = [];
  let offset = 0;
  for (let i = 0; offset < pcm.length; i++) {
    const size = sizes[i % sizes.length]!;
    const out = await stream.accept(pcm.subarray(offset, offset + size));
    if (out) parts.push(out);
    offset += size;
  }
  const last = await stream.finish();
  if (last) parts.push(last);
  let frames = 0;
  for (const p of parts) {
    if (p.startFrame !== frames) throw new Error(`stream output not contiguous: block starts at ${p.startFrame}, expected ${frames}`);
    frames += p.frames;
  }
  const data = new Float32Array(frames * model.tokens.length);
  let at = 0;
  for (const p of parts) { data.set(p.data, at); at += p.data.length; }
  return { data, frames };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function worstLogSumExp(data: Float32Array, frames: number, tokens: number): number {
  let worst = 0;
  for (let f = 0; f < frames; f++) {
    const row = data.subarray(f * tokens, (f + 1) * tokens);
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    worst = Math.max(worst, Math.abs(max + Math.log(sum)));
  }
  return worst;
}

/** Share of frames whose most likely token is the same in both [frames x tokens] outputs. */
function argmaxAgreement(a: Float32Array, b: Float32Array, frames: number, tokens: number): number {
  let same = 0;
  const argmax = (d: Float32Array, f: number): number => {
    let best = 0;
    for (let k = 1; k < tokens; k++) if (d[f * tokens + k]! > d[f * tokens + best]!) best = k;
    return best;
  };
  for (let f = 0; f < frames; f++) if (argmax(a, f) === argmax(b, f)) same++;
  return same / Math.max(1, frames);
}

t.test('streaming in odd chunks gives the log-probs of one run over the whole buffer', async (t) => {
  const dir = await tempDir(t, 'gearhear-model-');
  const pcm = await readWavFile(await sayWithSlt('The pump bearing is worn and the gearbox leaks oil near the coupling.', path.join(dir, 'slt.wav')));
  const chunks = [1237, 333, 4001, 17, 2560, 799];
  for (const variant of ['fp32', 'int8'] as const) {
    for (const chunkFrames of [25, 7]) {
      const model = await OnnxAcousticModel.load({ dir: shippedModelDir, variant, chunkFrames, streaming: 'recompute' });
      t.teardown(() => model.dispose());
      t.equal(model.streaming, 'recompute', 'streaming: recompute runs the whole-segment graph');
      const whole = await model.run(pcm);
      const streamed = await streamInChunks(model, pcm, chunks);
      const label = `${variant}, recompute, chunkFrames ${chunkFrames}`;
      t.equal(whole.frames, framesFor(model.manifest, pcm.length), `${label}: frames = framesFor(samples)`);
      t.equal(streamed.frames, whole.frames, `${label}: the stream yields every frame`);
      t.ok(maxAbsDiff(streamed.data, whole.data.subarray(0, whole.frames * model.tokens.length)) < 1e-4, `${label}: same log-probs within 1e-4`);
      t.ok(worstLogSumExp(whole.data, whole.frames, model.tokens.length) < 1e-3, `${label}: every row is a log-probability distribution`);
    }
  }
  // The streaming graph with caches: fp32 is the same function as the whole-segment graph; int8
  // is quantised on its own (the cache joins are quantised too), so it agrees closely, not exactly.
  for (const chunkFrames of [1, 5, 25]) {
    const fp32 = await OnnxAcousticModel.load({ dir: shippedModelDir, variant: 'fp32', chunkFrames });
    t.teardown(() => fp32.dispose());
    t.equal(fp32.streaming, 'cache', 'the shipped model streams with caches by default');
    const whole = await fp32.run(pcm);
    const streamed = await streamInChunks(fp32, pcm, chunks);
    t.equal(streamed.frames, whole.frames, `fp32, cache, chunkFrames ${chunkFrames}: every frame`);
    t.ok(maxAbsDiff(streamed.data, whole.data) < 1e-4, `fp32, cache, chunkFrames ${chunkFrames}: same log-probs within 1e-4`);
    const int8 = await OnnxAcousticModel.load({ dir: shippedModelDir, variant: 'int8', chunkFrames });
    t.teardown(() => int8.dispose());
    const q = await streamInChunks(int8, pcm, chunks);
    t.equal(q.frames, whole.frames, `int8, cache, chunkFrames ${chunkFrames}: every frame`);
    t.ok(worstLogSumExp(q.data, q.frames, int8.tokens.length) < 1e-3, `int8, cache: rows are log-probability distributions`);
    const agree = argmaxAgreement(q.data, whole.data, whole.frames, int8.tokens.length);
    t.ok(agree > 0.9, `int8, cache, chunkFrames ${chunkFrames}: best token agrees with fp32 on ${(agree * 100).toFixed(1)} % of frames (> 90 %)`);
  }
});

t.test('cache streaming: segments shorter than a frame, or than the look-ahead', async (t) => {
  const model = await OnnxAcousticModel.load({ dir: shippedModelDir, variant: 'fp32', chunkFrames: 1 });
  t.teardown(() => model.dispose());
  for (const samples of [100, 480, 640, 1000, 2200, 4000]) {
    const pcm = new Float32Array(samples).map((_, i) => 0.2 * Math.sin(i / 5) * Math.sin(i / 300));
    const whole = await model.run(pcm);
    const streamed = await streamInChunks(model, pcm, [160]);
    t.equal(streamed.frames, whole.frames, `${samples} samples: ${whole.frames} frames either way`);
    t.ok(maxAbsDiff(streamed.data, whole.data) < 1e-4, `${samples} samples: same log-probs`);
  }
});

t.test('streaming graph errors: missing for the variant, or a bad manifest entry', async (t) => {
  const root = await tempDir(t, 'gearhear-model-');
  const noInt8 = path.join(root, 'no-int8-stream');
  await cp(shippedModelDir, noInt8, { recursive: true });
  const m = { ...shipped, streaming: { ...shipped.streaming!, variants: { fp32: shipped.streaming!.variants.fp32 } } };
  await writeFile(path.join(noInt8, 'model.json'), JSON.stringify(m));
  const auto = await OnnxAcousticModel.load({ dir: noInt8, variant: 'int8' });
  t.teardown(() => auto.dispose());
  t.equal(auto.streaming, 'recompute', 'auto falls back to recompute when the variant has no streaming graph');
  await t.rejects(OnnxAcousticModel.load({ dir: noInt8, variant: 'int8', streaming: 'cache' }),
    { name: 'ModelLoadError', message: /no streaming graph for "int8" \(it has: fp32\); set model\.streaming to recompute/ });
  const bad = await modelDir(root, 'bad-stream', { ...shipped, streaming: { ...shipped.streaming!, states: [{ input: 'x' }] } });
  await t.rejects(readManifest(bad), { name: 'ModelLoadError', message: /"streaming\.states" must be a list/ });
});

t.test('output frames match framesFor for lengths around the window and hop', async (t) => {
  const model = await OnnxAcousticModel.load({ dir: shippedModelDir, variant: 'fp32' });
  t.teardown(() => model.dispose());
  const m = model.manifest;
  const lengths = [m.windowSamples + m.hopSamples, m.windowSamples + 3 * m.hopSamples - 1, 4000, 16_000, 16_000 + 159, 16_000 + 161];
  for (const samples of lengths) {
    const pcm = new Float32Array(samples).map((_, i) => 0.1 * Math.sin(i / 7));
    const out = await model.run(pcm);
    t.equal(out.frames, framesFor(m, samples), `${samples} samples -> ${framesFor(m, samples)} frames`);
    t.equal(out.data.length, out.frames * m.tokens.length, `${samples} samples: [frames x tokens] data`);
  }
  t.equal(model.tokens[model.blankIndex], '<blk>', 'the blank token is <blk>');
});
