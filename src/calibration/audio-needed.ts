/**
 * How much audio a calibration needs for its target (thresholds.ts has the rules these follow from).
 *
 * - Measured at all: a term that never comes up in H hours gets floor + β·ln(margin / (H·R)) (its
 *   rate taken as 1/H). That reaches the highest threshold when H <= margin / (R·exp((1 − floor)/β)):
 *   with less audio every term that did not come up is pinned at 1.0 by the length of the audio, not
 *   by anything heard in it, and is hardly ever detected again. `gearhear calibrate` refuses that.
 * - Confirmed: no false alarm in H hours shows a rate below 3/H (95%, the rule of three), so 3/R
 *   hours are needed before the target is measured rather than extrapolated by the tail model.
 */
import { CALIBRATION_FLOOR, MARGIN, MAX_CALIBRATED_THRESHOLD, type TermThreshold } from './thresholds.js';

/** Hours below which a term that never came up gets the highest threshold (at tail scale `scale`). */
export function minimumAudioHours(target: number, scale: number, floor = CALIBRATION_FLOOR, margin = MARGIN): number {
  return margin / (target * Math.exp((MAX_CALIBRATED_THRESHOLD - floor) / scale));
}

/** The lowest target `hours` of audio can calibrate for at all (minimumAudioHours solved for the target). */
export function lowestTarget(hours: number, scale: number, floor = CALIBRATION_FLOOR, margin = MARGIN): number {
  return margin / (hours * Math.exp((MAX_CALIBRATED_THRESHOLD - floor) / scale));
}

/** Hours in which seeing no false alarm shows a rate below `target` (95%). */
export const confirmingAudioHours = (target: number): number => 3 / target;

const fmt = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

export const duration = (hours: number): string =>
  (hours >= 1 ? `${fmt(hours, 1)} h` : hours >= 1 / 60 ? `${fmt(hours * 60, 1)} min` : `${fmt(hours * 3600, 1)} s`);

/** Three significant figures, for rates. */
const figure = (x: number): string => String(Number(x.toPrecision(3)));

/** Three significant figures, rounded up (a target this audio can calibrate for). */
function figureUp(x: number): string {
  const unit = 10 ** (Number(x.toExponential().split('e')[1]) - 2); // its third significant digit
  return String(Number((Math.ceil(x / unit - 1e-9) * unit).toPrecision(3)));
}

export interface AudioCheck {
  /** Too little audio to measure the target at all: refused unless forced. */
  tooLittle: boolean;
  /** What to say (on stderr, and in the report's notes); empty when the audio confirms the target. */
  warning: string[];
}

/** Whether `hours` of audio can calibrate `target` at tail scale `scale`, and what to say when not. */
export function checkAudio(hours: number, target: number, scale: number, terms: readonly TermThreshold[]): AudioCheck {
  const minimum = minimumAudioHours(target, scale);
  const confirming = confirmingAudioHours(target);
  if (hours >= confirming) return { tooLittle: false, warning: [] };
  const pinned = terms.filter((t) => t.threshold >= MAX_CALIBRATED_THRESHOLD).length;
  const warning = [
    `${duration(hours)} of audio cannot show ${target} false alarms per hour per term: one false alarm in it is already ${figure(1 / hours)} per hour.`,
  ];
  if (hours < minimum) {
    warning.push(`Below ${duration(minimum)} of audio (at this target, tail scale ${fmt(scale, 3)}) even a term that never comes up gets the highest threshold, 1.000: ` +
      `${pinned} of ${terms.length} terms would be set to it and hardly ever be detected again.`);
  } else if (pinned > 0) {
    warning.push(`${pinned} of ${terms.length} terms are set to the highest threshold, 1.000, and will hardly ever be detected.`);
  }
  warning.push(`Needed for ${target} per hour: at least ${duration(minimum)} of audio for the tail model to set any threshold below 1.000, ` +
    `and ${duration(confirming)} (3/R) to confirm the target by counting; thresholds from less lean high.`);
  if (hours < minimum) {
    warning.push(`Record more audio without the terms, or aim at --target-fa-per-hour ${figureUp(lowestTarget(hours, scale))} or more with this audio.`);
  }
  return { tooLittle: hours < minimum, warning };
}
