/** How much audio a target needs: the figures agree with the thresholds the tail model sets. */
import t from 'tap';
import { checkAudio, confirmingAudioHours, lowestTarget, minimumAudioHours } from '../../src/calibration/audio-needed.js';
import { OccurrenceTail } from '../../src/calibration/occurrences.js';
import { chooseThresholds, termThreshold } from '../../src/calibration/thresholds.js';

/** The threshold of a term that never came up in `hours` of audio. */
const quiet = (hours: number, target: number, scale: number): number => termThreshold('x', new OccurrenceTail([], hours, 1), scale, { targetFaPerHour: target }).threshold;

t.test('below the minimum audio a term that never came up gets the highest threshold; above it, less', async (t) => {
  for (const [target, scale] of [[0.1, 0.3], [0.1, 0.15], [1, 0.3], [500, 0.3]] as const) {
    const h = minimumAudioHours(target, scale);
    t.equal(quiet(h * 0.95, target, scale), 1, `R ${target}, scale ${scale}: 1.0 below ${h.toFixed(4)} h`);
    t.ok(quiet(h * 1.1, target, scale) < 1, `R ${target}, scale ${scale}: below 1.0 above it (${quiet(h * 1.1, target, scale)})`);
    t.ok(Math.abs(lowestTarget(h, scale) - target) < 1e-9 * target, 'lowestTarget is its inverse');
  }
  t.ok(Math.abs(minimumAudioHours(0.1, 0.3) - 1.94) < 0.01, 'at 0.1 per hour and the default scale: about 1.9 h');
  t.equal(confirmingAudioHours(0.1), 30);
});

t.test('22 minutes at 0.1 per hour: refused, with the audio it would take', async (t) => {
  const hours = 22 / 60;
  const tails = new Map(Array.from({ length: 196 }, (_, i) => [`term ${i}`, new OccurrenceTail([], hours, 1)]));
  const chosen = chooseThresholds(tails, { targetFaPerHour: 0.1 });
  t.ok(chosen.terms.every((x) => x.threshold === 1), 'the tail model pins all 196 terms at 1.0');
  const check = checkAudio(hours, 0.1, chosen.scale, chosen.terms);
  t.equal(check.tooLittle, true);
  const text = check.warning.join(' ');
  t.match(text, /22\.0 min of audio cannot show 0\.1 false alarms per hour per term/);
  t.match(text, /196 of 196 terms would be set to it/);
  t.match(text, /at least 1\.9 h of audio .* and 30\.0 h \(3\/R\) to confirm/);
  t.match(text, /--target-fa-per-hour 0\.529 or more/);
  t.ok(minimumAudioHours(0.529, chosen.scale) <= hours, 'and that target is within reach of this audio');
});

t.test('enough audio to set thresholds but not to confirm the target: a warning; enough to confirm: nothing', async (t) => {
  const few = checkAudio(5, 0.1, 0.3, []);
  t.equal(few.tooLittle, false);
  t.match(few.warning.join(' '), /5\.0 h of audio cannot show 0\.1 .* already 0\.2 per hour/);
  t.same(checkAudio(30, 0.1, 0.3, []), { tooLittle: false, warning: [] });
});
