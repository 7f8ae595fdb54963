/**
 * `vocab compile`'s real context speech (ContextSpeech): pieces are read from the file a piece at a
 * time, from an utterance's start or end, and never from an utterance whose transcript says the term.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ContextSpeech } from '../../src/kws/head-compile.js';
import { seededRandom } from '../../src/kws/term-synth.js';
import { tempDir } from '../fixtures/gearhear-cli.js';

const dir = await tempDir(t, 'gearhear-context-speech-');
// Two 1.5 s utterances: the first (value 1000) says "valve", the second (value -2000 rising) does not.
const n = 24000;
const pcm = new Int16Array(2 * n);
for (let i = 0; i < n; i++) { pcm[i] = 1000; pcm[n + i] = -2000 + Math.floor(i / 12); }
await writeFile(path.join(dir, 'ctx.i16'), Buffer.from(pcm.buffer));
await writeFile(path.join(dir, 'ctx.jsonl'), `${JSON.stringify({ offset: 0, samples: n, path: 'a.ogg' })}\n${JSON.stringify({ offset: n, samples: n, path: 'b.ogg' })}\n`);
const texts = new Map([['a.ogg', 'the Valve leaks'], ['b.ogg', 'the pump hums']]);

t.test('pieces come from utterances that do not say the term, from their start or end', async (t) => {
  const c = await ContextSpeech.open(path.join(dir, 'ctx.i16'), path.join(dir, 'ctx.jsonl'), texts);
  t.teardown(() => c.close());
  const rng = seededRandom(5);
  for (let k = 0; k < 10; k++) {
    const start = await c.piece('valve', 0.5, true, rng);
    t.equal(start.length, 8000);
    t.equal(Math.round(start[0]! * 32768), -2000, 'the start of the utterance without the term');
    const end = await c.piece('valve', 0.5, false, rng);
    t.equal(Math.round(end[end.length - 1]! * 32768), -2000 + Math.floor((n - 1) / 12), 'its end');
  }
  const longer = await c.piece('pump', 5, true, seededRandom(1));
  t.equal(longer.length, n, 'at most the whole utterance');
  t.equal(Math.round(longer[0]! * 32768), 1000, 'the other utterance when the term is "pump"');
});
