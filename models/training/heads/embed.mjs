// Speech embeddings of every clip of a set made by prepare.py, exactly as the daemon's stream makes
// them (src/model/speech-embedding.ts): a fresh stream per clip, mel buffer starting as ones, one
// 96-dim embedding per 1280 samples. Computed in one mel call and one batched embedding call per
// clip (the same numbers as hop by hop, within the mel model's 1e-4).
// Usage: node models/training/heads/embed.mjs WORK/heads SET...   (needs `npm run build`)
// Writes SET.emb.f32 ([total x 96] float32) and SET.emb.jsonl (per clip: embOffset, embCount + the clip's meta).
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { SpeechEmbedding, MEL_BINS, MEL_WINDOW, HOP_SAMPLES, EMBEDDING_DIM } = await import(path.join(repo, 'dist/src/model/speech-embedding.js'));

const [dir, ...sets] = process.argv.slice(2);
const model = await SpeechEmbedding.load();

/** [K x 96] embeddings of a clip of int16 samples, K = floor(n / 1280). */
async function clipEmbeddings(pcm16) {
  const hops = Math.floor(pcm16.length / HOP_SAMPLES);
  if (hops === 0) return new Float32Array(0);
  const x = new Float32Array(hops * HOP_SAMPLES);
  for (let i = 0; i < x.length; i++) x[i] = pcm16[i];
  const spec = await model.melFrames(x);
  const frames = spec.length / MEL_BINS; // 8 * hops - 3
  const mel = new Float32Array((MEL_WINDOW + frames) * MEL_BINS).fill(1);
  mel.set(spec, MEL_WINDOW * MEL_BINS);
  const windows = new Float32Array(hops * MEL_WINDOW * MEL_BINS);
  for (let k = 1; k <= hops; k++) {
    const end = MEL_WINDOW + 8 * k - 3;
    windows.set(mel.subarray((end - MEL_WINDOW) * MEL_BINS, end * MEL_BINS), (k - 1) * MEL_WINDOW * MEL_BINS);
  }
  const out = new Float32Array(hops * EMBEDDING_DIM);
  const BATCH = 256;
  for (let b = 0; b < hops; b += BATCH) {
    const n = Math.min(BATCH, hops - b);
    out.set(await model.embed(windows.subarray(b * MEL_WINDOW * MEL_BINS, (b + n) * MEL_WINDOW * MEL_BINS), n), b * EMBEDDING_DIM);
  }
  return out;
}

for (const set of sets) {
  const pcm = new Int16Array(readFileSync(path.join(dir, `${set}.i16`)).buffer.slice(0));
  const index = readFileSync(path.join(dir, `${set}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const bin = createWriteStream(path.join(dir, `${set}.emb.f32`));
  const rows = [];
  let embOffset = 0;
  const t0 = Date.now();
  for (const [i, clip] of index.entries()) {
    const emb = await clipEmbeddings(pcm.subarray(clip.offset, clip.offset + clip.samples));
    const count = emb.length / EMBEDDING_DIM;
    if (!bin.write(Buffer.from(emb.buffer, emb.byteOffset, emb.byteLength))) await new Promise((r) => bin.once('drain', r));
    rows.push(JSON.stringify({ ...clip, embOffset, embCount: count }));
    embOffset += count;
    if (i % 2000 === 0) console.log(`${set} ${i}/${index.length} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  await new Promise((r) => bin.end(r));
  writeFileSync(path.join(dir, `${set}.emb.jsonl`), rows.join('\n') + '\n');
  console.log(`${set}: ${index.length} clips, ${embOffset} embeddings, model ${model.computeSeconds.toFixed(1)} s`);
}
// The padding the daemon's ring buffer starts with: the embedding of a mel window of ones.
const init = await model.embed(new Float32Array(MEL_WINDOW * MEL_BINS).fill(1), 1);
writeFileSync(path.join(dir, 'init.emb.json'), JSON.stringify(Array.from(init)));
await model.dispose();
