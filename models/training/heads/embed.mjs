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
const { SpeechEmbedding, EMBEDDING_DIM } = await import(path.join(repo, 'dist/src/model/speech-embedding.js'));

const [dir, ...sets] = process.argv.slice(2);
const model = await SpeechEmbedding.load();

/** [K x 96] embeddings of a clip of int16 samples, K = floor(n / 1280), as the daemon's stream makes them. */
async function clipEmbeddings(pcm16) {
  return (await model.embedAsStream(Float32Array.from(pcm16))).data;
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
const init = await model.initialEmbedding();
writeFileSync(path.join(dir, 'init.emb.json'), JSON.stringify(Array.from(init)));
await model.dispose();
