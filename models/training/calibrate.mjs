// Activation ranges for INT8 calibration, measured with onnxruntime-node (the runtime that
// ships), over held-out audio written by `quantize.py prepare`. Writes calib_ranges.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
// A streaming graph (stream.json from `quantize.py prepare`) runs as the daemon runs it: in chunks
// of a few frames, its caches fed back, so the ranges include the cache concatenations.
const streamSpec = path.join(dir, 'stream.json');
const stream = existsSync(streamSpec) ? JSON.parse(readFileSync(streamSpec, 'utf8')) : null;
const CHUNK_FRAMES = 5;
const FRAME = 320;

async function* runs(pcm) {
  if (!stream) {
    yield await session.run({ pcm: new ort.Tensor('float32', pcm, [1, pcm.length]) }, names);
    return;
  }
  let states = stream.states.map((s) => new ort.Tensor('float32', new Float32Array(s.shape.reduce((a, b) => a * b, 1)), s.shape));
  const fetch = [...names, ...stream.states.map((s) => s.output)];
  for (let a = 0; (a + CHUNK_FRAMES) * FRAME + stream.tailSamples <= pcm.length; a += CHUNK_FRAMES) {
    const feeds = {
      pcm: new ort.Tensor('float32', pcm.slice(a * FRAME, (a + CHUNK_FRAMES) * FRAME + stream.tailSamples), [1, CHUNK_FRAMES * FRAME + stream.tailSamples]),
      [stream.mask]: new ort.Tensor('float32', Float32Array.from({ length: CHUNK_FRAMES + stream.delayFrames }, (_, i) => (a - stream.delayFrames + i >= 0 ? 1 : 0)), [1, 1, CHUNK_FRAMES + stream.delayFrames]),
    };
    stream.states.forEach((s, i) => { feeds[s.input] = states[i]; });
    const out = await session.run(feeds, fetch);
    states = stream.states.map((s) => out[s.output]);
    yield out;
  }
}

let off = 0;
for (const n of lengths) {
  const pcm = audio.subarray(off, off + n);
  off += n;
  const lo = Object.fromEntries(names.map((name) => [name, Infinity]));
  const hi = Object.fromEntries(names.map((name) => [name, -Infinity]));
  for await (const out of runs(pcm)) {
    for (const name of names) {
      const d = out[name].data;
      for (let i = 0; i < d.length; i++) { const v = d[i]; if (v < lo[name]) lo[name] = v; if (v > hi[name]) hi[name] = v; }
    }
  }
  for (const name of names) {
    const a = acc[name];
    a.lo += lo[name] / lengths.length; a.hi += hi[name] / lengths.length;
    a.glo = Math.min(a.glo, lo[name]); a.ghi = Math.max(a.ghi, hi[name]);
  }
}
const ranges = Object.fromEntries(names.map((n) => {
  const a = acc[n];
  return [n, [a.lo + 0.25 * (a.glo - a.lo), a.hi + 0.25 * (a.ghi - a.hi)]];
}));
writeFileSync(path.join(dir, 'calib_ranges.json'), JSON.stringify(ranges));
console.log(`calibrated ${names.length} tensors on ${lengths.length} utterances`);
