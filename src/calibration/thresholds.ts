/**
 * Per-term thresholds from score distributions in audio where no term is said (see README,
 * "Site calibration"). For each term, with n its detections at the floor F in H hours:
 *
 * 1. Tail model. Scores above F fall off roughly exponentially, with a shape that varies little
 *    between terms, so one scale β is fitted on every term's occurrences together (maximum
 *    likelihood: the mean excess over F). The term's rate at F is taken as (n + 1) / H (one
 *    occurrence more than seen, so a term that never came up still gets a finite rate), and its
 *    rate at θ as that times exp(-(θ - F) / β).
 * 2. Margin. The threshold is where the model's rate is R / MARGIN (MARGIN = 2): half the target,
 *    because the next hours are not the hours measured.
 * 3. Measured. If more than R·H detections are still counted at that threshold in the audio
 *    itself, the threshold is raised until at most R·H are (the measured rate never exceeds R).
 * 4. A term whose measured rate stays above R even at the highest threshold (its false alarms score
 *    1.0: it sounds exactly like something said here) cannot reach the target.
 */
import type { ScoreTail } from './occurrences.js';

/** The calibration aims at the target rate divided by this. */
export const MARGIN = 2;
/** Lowest threshold a calibration writes, and the score floor it listens at. */
export const CALIBRATION_FLOOR = 0.3;
/** Highest threshold a calibration writes (a score of 1.0 always passes it). */
export const MAX_CALIBRATED_THRESHOLD = 1;
/** Scale used when too few occurrences were seen to fit one. */
export const DEFAULT_TAIL_SCALE = 0.3;
/** Fewer occurrences than this in all terms together: the default scale is used. */
export const MIN_OCCURRENCES_FOR_SCALE = 20;

export interface TermThreshold {
  term: string;
  threshold: number;
  /** Detections per hour counted in the calibration audio at `threshold`. */
  faPerHour: number;
  /** Detections counted at the floor (how often the term came up at all). */
  atFloor: number;
  /** The tail model's rate per hour at `threshold`. */
  modelFaPerHour: number;
  /** False when even the highest threshold leaves more than the target. */
  reached: boolean;
}

export interface ThresholdOptions {
  targetFaPerHour: number;
  floor?: number;
  margin?: number;
}

/** β: mean excess over the floor of every term's occurrences at or above it. */
export function fitTailScale(tails: Iterable<ScoreTail>, floor: number): { scale: number; occurrences: number } {
  let sum = 0;
  let n = 0;
  for (const tail of tails) {
    for (const s of tail.top(Infinity)) {
      if (s < floor) break;
      sum += s - floor;
      n++;
    }
  }
  if (n < MIN_OCCURRENCES_FOR_SCALE) return { scale: DEFAULT_TAIL_SCALE, occurrences: n };
  return { scale: Math.max(0.02, sum / n), occurrences: n };
}

const roundUp = (x: number): number => Math.ceil(x * 1000 - 1e-9) / 1000;

/** The threshold for one term (rules in the module comment). */
export function termThreshold(term: string, tail: ScoreTail, scale: number, o: ThresholdOptions): TermThreshold {
  const floor = o.floor ?? CALIBRATION_FLOOR;
  const margin = o.margin ?? MARGIN;
  const R = o.targetFaPerHour;
  const H = tail.hours;
  const atFloor = tail.count(floor);
  const rate0 = (atFloor + 1) / H;
  const model = (th: number): number => rate0 * Math.exp(-(th - floor) / scale);
  let threshold = Math.max(floor, floor + scale * Math.log((rate0 * margin) / R));
  threshold = Math.min(MAX_CALIBRATED_THRESHOLD, roundUp(threshold));
  const allowed = Math.floor(R * H + 1e-9);
  if (tail.count(threshold) > allowed) {
    // Raise to just above the lowest score that still leaves at most `allowed` detections.
    const scores = tail.scores().filter((s) => s >= threshold);
    let lo = 0;
    let hi = scores.length; // answer index in [0, scores.length]; scores.length = above everything
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tail.count(nextAbove(scores[mid]!)) <= allowed) hi = mid;
      else lo = mid + 1;
    }
    threshold = lo < scores.length ? nextAbove(scores[lo]!) : nextAbove(scores[scores.length - 1] ?? threshold);
    threshold = Math.min(MAX_CALIBRATED_THRESHOLD, threshold);
  }
  const measured = tail.count(threshold);
  return {
    term, threshold, faPerHour: measured / H, atFloor, modelFaPerHour: model(threshold), reached: measured <= allowed,
  };
}

/** The smallest 3-decimal threshold a score is below (a threshold t passes scores >= t). */
function nextAbove(score: number): number {
  return Math.floor(score * 1000 + 1e-9) / 1000 + 0.001;
}

/** Thresholds for every term: the scale is fitted once on all of them. */
export function chooseThresholds(tails: ReadonlyMap<string, ScoreTail>, o: ThresholdOptions): { scale: number; occurrences: number; terms: TermThreshold[] } {
  if (!(o.targetFaPerHour > 0)) throw new Error(`target false alarms per hour must be > 0 (got ${o.targetFaPerHour})`);
  const floor = o.floor ?? CALIBRATION_FLOOR;
  const { scale, occurrences } = fitTailScale(tails.values(), floor);
  const terms = [...tails.entries()].map(([term, tail]) => termThreshold(term, tail, scale, o));
  return { scale, occurrences, terms };
}
