/**
 * The INT8 models (the phone model, the student embedding) compute the same on every CPU. onnxruntime's uint8 x int8 convolutions add
 * pairs of products in int16 on x86 CPUs without VNNI (AVX2), which saturates for weights beyond
 * 7 bits; VNNI and ARM CPUs add exactly. The shipped weights are 7-bit (models/training/quantize.py),
 * so the scores cannot depend on the machine. Checked by running the graph natively and under
 * qemu-user's emulated CPU, which has AVX2 but no VNNI (qemu-user, from scripts/test.sh).
 * Before the 7-bit weights, the same 2.5 s of real speech differed between the two by up to 0.51 in
 * a phone's probability, and by up to 19 in a student embedding value of at most 62.
 */
import { execFile } from 'node:child_process';
import { arch } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { readManifest } from '../fixtures/audio-helpers.js';
import { repoRoot, shippedModelDir, tempDir } from '../fixtures/gearhear-cli.js';

const run = promisify(execFile);
const probe = path.join(repoRoot, 'test/fixtures/int8-logprobs.mjs');

const EMULATED = ['qemu-x86_64', '-cpu', 'max'];
const skip = arch() === 'x64' ? false : `needs an x86-64 host (this is ${arch()})`;

/** The probe's output, run natively (prefix []) or under the emulated CPU (EMULATED). */
async function outputs(prefix: string[], ...probeArgs: string[]): Promise<Float32Array> {
  const [cmd, ...args] = [...prefix, process.execPath, probe, ...probeArgs];
  const { stdout } = await run(cmd!, args, { maxBuffer: 64 << 20, timeout: 240_000 });
  const bytes = Buffer.from(stdout, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** 2.5 s of a real recorded sentence of ../shared/data, 16 kHz mono 16-bit. */
async function realSpeech(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const sentence = (await readManifest()).find((r) => r.kind === 'sentence' && !r.path.includes('/ljspeech-'));
  if (!sentence) throw new Error('no real recorded sentence in ../shared/data/manifest.csv');
  const wav = path.join(await tempDir(t, 'gearhear-int8-'), 'speech.wav');
  await run('sox', [sentence.file, '-r', '16000', '-c', '1', '-b', '16', wav, 'trim', '0', '2.5']);
  return wav;
}

t.test('the int8 phone model gives the same phone probabilities with and without VNNI', { skip }, async (t) => {
  const wav = await realSpeech(t);
  const model = path.join(shippedModelDir, 'model.int8.onnx');
  const [native, emulated] = await Promise.all([[], EMULATED].map(async (prefix) => Float32Array.from(await outputs(prefix, 'phones', model, wav), Math.exp)));
  t.equal(emulated!.length, native!.length, `${native!.length} probabilities from each`);
  const worst = largestDifference(native!, emulated!);
  t.ok(worst < 1e-4, `largest difference in a phone probability ${worst.toExponential(2)} (under 1e-4)`);
});

t.test('the int8 student embedding gives the same embeddings with and without VNNI', { skip }, async (t) => {
  const model = path.join(repoRoot, 'models/gearhear-student/student.int8.onnx');
  const wav = await realSpeech(t);
  const [native, emulated] = await Promise.all([[], EMULATED].map((prefix) => outputs(prefix, 'student', model, wav)));
  t.equal(emulated!.length, native!.length, `${native!.length / 96} embeddings of 96 from each`);
  const scale = Math.max(...native!.map(Math.abs));
  const worst = largestDifference(native!, emulated!);
  t.ok(worst < 1e-4 * scale, `largest difference ${worst.toExponential(2)}, the largest value ${scale.toFixed(2)}`);
});
