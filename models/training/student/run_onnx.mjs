// Embeddings of mel windows by an ONNX embedding model in onnxruntime-node, as SpeechEmbedding.embed
// runs it (input_1 [n, 76, 32, 1], first output flattened), for train_student.py score.
// Usage: node models/training/student/run_onnx.mjs MODEL.onnx WINDOWS.f32 OUT.f32
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ort = await import(path.join(repo, 'dist/src/model/ort.js')); // telemetry off, as the daemon

const [model, input, out] = process.argv.slice(2);
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
const buf = readFileSync(input);
const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const W = 76 * 32;
const n = x.length / W;
const res = new Float32Array(n * 96);
const B = 256;
const t0 = performance.now();
for (let b = 0; b < n; b += B) {
  const m = Math.min(B, n - b);
  const o = await session.run({ input_1: new ort.Tensor('float32', x.slice(b * W, (b + m) * W), [m, 76, 32, 1]) });
  res.set(o[session.outputNames[0]].data, b * 96);
}
console.log(`${n} windows, ${((performance.now() - t0) / n).toFixed(3)} ms per window (batches of ${B}, 1 thread)`);
writeFileSync(out, Buffer.from(res.buffer));
