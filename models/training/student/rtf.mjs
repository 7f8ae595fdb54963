// Real-time factor of the speech embedding as the daemon's stream runs it (one hop of 80 ms at a
// time, batch 1, one thread): mel front end + embedding network, for Google's and the student's.
// Usage: node models/training/student/rtf.mjs [AUDIO.i16] [SECONDS]   (needs `npm run build`)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { SpeechEmbedding, embeddingFileFor } = await import(path.join(repo, 'dist/src/model/speech-embedding.js'));
const trainDir = process.env.GEARHEAR_TRAIN_DIR ?? path.join(repo, '..', 'gearhear-train');
const [audio = path.join(trainDir, 'heads', 'negspeech.i16'), secArg = '60'] = process.argv.slice(2);
const n = Number(secArg) * 16000;
const buf = readFileSync(audio).subarray(0, n * 2);
const pcm = Float32Array.from(new Int16Array(buf.buffer, buf.byteOffset, n), (v) => v / 32767);
const sec = n / 16000;
for (const choice of ['google', 'student', 'student-int8']) {
  const model = await SpeechEmbedding.load({ intraOpThreads: 1, embeddingFile: await embeddingFileFor(choice) });
  // warm-up
  await model.createStream().accept(pcm.subarray(0, 16000));
  const before = model.computeSeconds;
  const stream = model.createStream();
  const t0 = performance.now();
  for (let i = 0; i < pcm.length; i += 1280) await stream.accept(pcm.subarray(i, i + 1280));
  const wall = (performance.now() - t0) / 1000;
  const compute = model.computeSeconds - before;
  // the mel front end alone on the same hops (the left context + hop the stream feeds it)
  const m0 = model.computeSeconds;
  for (let i = 1280; i + 1280 <= pcm.length; i += 1280) await model.melFrames(pcm.subarray(i - 480, i + 1280).map((v) => v * 32767));
  const mel = model.computeSeconds - m0;
  console.log(`${choice}: ${stream.count} hops of ${sec} s, RTF mel+embedding ${(compute / sec).toFixed(4)} (wall ${(wall / sec).toFixed(4)}), mel alone ${(mel / sec).toFixed(4)}, embedding alone ${((compute - mel) / sec).toFixed(4)}`);
  await model.dispose();
}
