// Mel frames and teacher embeddings of a random subset of the heads' training clips, for training
// the student embedding (train_student.py). The mel is computed exactly as embedAsStream does
// (src/model/speech-embedding.ts): the clip cut to whole hops, one mel call, and a buffer that
// starts with 76 frames of ones; window k (1-based) of a clip is rows [8k-3, 8k-3+76) of it.
// Usage: node models/training/student/dump_mel.mjs WORK/heads OUT_DIR [HOPS]   (needs `npm run build`)
// Writes OUT_DIR/mel.f32 ([sum of (76 + frames) x 32] float32), OUT_DIR/emb.f32 ([sum of hops x 96],
// the teacher's, copied from SET.emb.f32) and OUT_DIR/clips.jsonl (per clip: set, index, melOffset,
// melFrames (padded, rows), embOffset, embCount, term).
import { createWriteStream, readFileSync, writeFileSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { SpeechEmbedding, EMBEDDING_DIM, MEL_BINS, MEL_WINDOW, HOP_SAMPLES } = await import(path.join(repo, 'dist/src/model/speech-embedding.js'));

const [dir, out, hopsArg] = process.argv.slice(2);
const TOTAL = Number(hopsArg ?? 250000);
// Share of the hop budget per set: more real speech and positives.
const SHARE = { negspeech: 0.34, pos: 0.26, possent: 0.16, negtts: 0.10, negunl: 0.08, negnoise: 0.06 };
const model = await SpeechEmbedding.load();

// Deterministic shuffle (mulberry32).
let seed = 12345;
const rand = () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };

const melOut = createWriteStream(path.join(out, 'mel.f32'));
const embOut = createWriteStream(path.join(out, 'emb.f32'));
const rows = [];
let melOffset = 0, embOffset = 0, checked = 0, worst = 0;
const write = async (s, a) => { if (!s.write(Buffer.from(a.buffer, a.byteOffset, a.byteLength))) await new Promise((r) => s.once('drain', r)); };
const t0 = Date.now();
for (const [set, share] of Object.entries(SHARE)) {
  const index = readFileSync(path.join(dir, `${set}.emb.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const order = index.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  const fd = openSync(path.join(dir, `${set}.i16`), 'r');
  const efd = openSync(path.join(dir, `${set}.emb.f32`), 'r');
  let budget = Math.round(TOTAL * share), n = 0;
  for (const i of order) {
    if (budget <= 0) break;
    const clip = index[i];
    const hops = Math.floor(clip.samples / HOP_SAMPLES);
    if (hops === 0 || hops !== clip.embCount) continue;
    const buf = Buffer.alloc(hops * HOP_SAMPLES * 2);
    readSync(fd, buf, 0, buf.length, clip.offset * 2);
    const pcm = Float32Array.from(new Int16Array(buf.buffer, buf.byteOffset, hops * HOP_SAMPLES));
    const spec = await model.melFrames(pcm);
    const frames = spec.length / MEL_BINS;
    const mel = new Float32Array((MEL_WINDOW + frames) * MEL_BINS).fill(1);
    mel.set(spec, MEL_WINDOW * MEL_BINS);
    const ebuf = Buffer.alloc(hops * EMBEDDING_DIM * 4);
    readSync(efd, ebuf, 0, ebuf.length, clip.embOffset * EMBEDDING_DIM * 4);
    const emb = new Float32Array(ebuf.buffer, ebuf.byteOffset, hops * EMBEDDING_DIM);
    if (checked < 30) { // the windows through the teacher give back the stored embeddings
      const k = hops; const end = MEL_WINDOW + 8 * k - 3;
      const e = await model.embed(mel.slice((end - MEL_WINDOW) * MEL_BINS, end * MEL_BINS), 1);
      for (let d = 0; d < EMBEDDING_DIM; d++) worst = Math.max(worst, Math.abs(e[d] - emb[(k - 1) * EMBEDDING_DIM + d]));
      checked++;
    }
    await write(melOut, mel);
    await write(embOut, emb);
    rows.push(JSON.stringify({ set, index: i, melOffset, melFrames: MEL_WINDOW + frames, embOffset, embCount: hops, term: clip.term ?? null, end: clip.end ?? null }));
    melOffset += MEL_WINDOW + frames;
    embOffset += hops;
    budget -= hops;
    n++;
  }
  console.log(`${set}: ${n} clips, total ${embOffset} hops, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
await new Promise((r) => melOut.end(r));
await new Promise((r) => embOut.end(r));
writeFileSync(path.join(out, 'clips.jsonl'), rows.join('\n') + '\n');
console.log(`check: max |teacher(window) - stored| = ${worst.toExponential(2)} over ${checked} clips`);
await model.dispose();
