/**
 * Take templates (what a site head matches a window against) on the real speech embedding: a take
 * matches itself, the same word said by another voice and slower matches better than another word,
 * and templates survive the site heads file's encoding.
 */
import path from 'node:path';
import t from 'tap';
import { readWavFile } from '../../src/audio/wav-decode.js';
import { scaledCopy } from '../../src/audio/pcm.js';
import { EMBEDDING_DIM, INT16_SCALE, SpeechEmbedding } from '../../src/model/speech-embedding.js';
import { bestMatch, decodeTemplate, encodeTemplate, MATCH_FRAMES, matchScore, TEMPLATE_FRAMES, templateOf, windowEnd } from '../../src/model/take-templates.js';
import { windowsEndingAt } from '../../src/model/term-heads.js';
import { makeTempDir, soxConvert, speak } from '../fixtures/audio-helpers.js';

const WINDOW = 16;
const embedding = await SpeechEmbedding.load();
t.teardown(() => embedding.dispose());
const tmp = await makeTempDir('gearhear-templates-');
t.teardown(() => tmp.remove());

/** The window ends (int8) of every hop of a synthesised clip. */
async function ends(text: string, name: string, effects: string[] = []): Promise<Int8Array[]> {
  const raw = await speak(text, path.join(tmp.dir, `${name}-raw.wav`));
  const wav = await soxConvert(raw, path.join(tmp.dir, `${name}.wav`), ['-r', '16000', '-c', '1', '-b', '16'], effects);
  const { data, count } = await embedding.embedAsStream(scaledCopy(await readWavFile(wav), INT16_SCALE));
  const init = await embedding.initialEmbedding();
  const hops = Array.from({ length: count }, (_, i) => i + 1);
  const w = windowsEndingAt(data, init, WINDOW, hops), per = WINDOW * EMBEDDING_DIM;
  return hops.map((_, i) => windowEnd(w.subarray(i * per, (i + 1) * per), EMBEDDING_DIM));
}

const best = (clip: Int8Array[], template: Int8Array): number => Math.max(...clip.map((e) => matchScore(e, template, EMBEDDING_DIM)));

t.test('a take matches itself; the same word matches better than another word', async (t) => {
  const take = await ends('bearing', 'take');
  const template = templateOf(take.at(-1)!, EMBEDDING_DIM);
  t.equal(template.length, TEMPLATE_FRAMES * EMBEDDING_DIM);
  t.ok(matchScore(take.at(-1)!, template, EMBEDDING_DIM) > 0.99, 'the window it was cut from: ~1 (int8 frames)');
  const slower = await ends('bearing', 'slower', ['tempo', '0.8']);
  const other = await ends('cavitation', 'other');
  const sameWord = best(slower, template), otherWord = best(other, template);
  t.ok(sameWord > otherWord, `"bearing" said 20 % slower (${sameWord.toFixed(3)}) matches better than "cavitation" (${otherWord.toFixed(3)})`);
  t.equal(bestMatch(take.at(-1)!, [], EMBEDDING_DIM), -1, 'no templates: -1');
  const joined = new Int8Array(2 * MATCH_FRAMES * EMBEDDING_DIM);
  joined.set(other.at(-1)!, 0);
  joined.set(take.at(-1)!, MATCH_FRAMES * EMBEDDING_DIM);
  t.equal(matchScore(joined, template, EMBEDDING_DIM, MATCH_FRAMES * EMBEDDING_DIM), matchScore(take.at(-1)!, template, EMBEDDING_DIM), 'rows laid end to end are read at their offset');
});

t.test('templates survive the file encoding; short windows are refused', async (t) => {
  const x = Int8Array.from({ length: TEMPLATE_FRAMES * EMBEDDING_DIM }, (_, i) => ((i * 37) % 255) - 127);
  t.same(decodeTemplate(encodeTemplate(x)), x);
  t.throws(() => windowEnd(new Float32Array(4 * EMBEDDING_DIM), EMBEDDING_DIM), /last 12/);
});
