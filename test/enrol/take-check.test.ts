/**
 * The take check on real recordings: a clip cut tight to the word (a dataset's file, no quiet either
 * side) is heard as a recorded take with pauses is, and trimmed to the word; silence is still refused.
 */
import path from 'node:path';
import t from 'tap';
import { readWavFile } from '../../src/audio/file.js';
import { checkTake, TakeError } from '../../src/enrol/take-check.js';
import { sharedData } from '../fixtures/audio-helpers.js';

t.test('a take cut tight to the word is heard (the gate hears it again with quiet around)', async (t) => {
  // FSDD "zero" by george: 0.30 s, the word from the first sample to the last (eval-only: measured, never trained on).
  const file = path.join(sharedData, 'speech/words/fsdd/0_george_0.wav');
  const x = await readWavFile(file);
  t.ok(x.length < 0.35 * 16000, 'the clip is cut tight');
  const c = await checkTake(x, file);
  t.ok(c.speechSec > 0.2, `speech heard: ${c.speechSec.toFixed(2)} s`);
  t.ok(Math.abs(c.speechEnd - x.length) < 0.05 * 16000, 'the word ends where the clip does');
  t.equal(c.samples.length, x.length, 'nothing of the word is cut away');
  await t.rejects(checkTake(new Float32Array(16000), 'silent.wav'), TakeError, 'silence: refused');
});
