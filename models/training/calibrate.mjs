// Activation ranges for INT8 calibration, measured with onnxruntime-node (the runtime that
// ships), over held-out audio written by `quantize.py prepare`. Writes calib_ranges.json.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve(process.cwd(), 'package.json'));
const ort = require('onnxruntime-node');
const dir = process.argv[2];
const names = JSON.parse(readFileSync(path.join(dir, 'calib_tensors.json'), 'utf8'));
const lengths = JSON.parse(readFileSync(path.join(dir, 'calib_lengths.json'), 'utf8'));
const raw = readFileSync(path.join(dir, 'calib_audio.f32'));
const audio = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const session = await ort.InferenceSession.create(path.join(dir, 'calib.onnx'), { intraOpNumThreads: 2 });
// Per utterance min/max, averaged over utterances (robust to a single outlier), then widened
// toward the global extreme by a quarter.
const acc = Object.fromEntries(names.map((n) => [n, { lo: 0, hi: 0, glo: 0, ghi: 0 }]));
let off = 0;
for (const n of lengths) {
  const pcm = audio.subarray(off, off + n);
  off += n;
  const out = await session.run({ pcm: new ort.Tensor('float32', pcm, [1, n]) }, names);
  for (const name of names) {
    const d = out[name].data;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < d.length; i++) { const v = d[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    const a = acc[name];
    a.lo += lo / lengths.length; a.hi += hi / lengths.length;
    a.glo = Math.min(a.glo, lo); a.ghi = Math.max(a.ghi, hi);
  }
}
const ranges = Object.fromEntries(names.map((n) => {
  const a = acc[n];
  return [n, [a.lo + 0.25 * (a.glo - a.lo), a.hi + 0.25 * (a.ghi - a.hi)]];
}));
writeFileSync(path.join(dir, 'calib_ranges.json'), JSON.stringify(ranges));
console.log(`calibrated ${names.length} tensors on ${lengths.length} utterances`);
