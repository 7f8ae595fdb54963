/**
 * The figures `gearhear adapt` is guarded by, computed as the head detector decides: a term is
 * reported when its score has been at or above the threshold for `patience` hops in a row, and not
 * again within the refractory time.
 */
import { patientValues } from '../kws/head-fit.js';
import { EMBEDDING_SHIFT_SEC } from '../model/speech-embedding.js';

/** Reports at threshold `thr` (values on the same scale) over runs of hops, with patience and refractory time. */
export function countAlarms(values: ArrayLike<number>, runs: readonly number[], thr: number, patience: number, refractorySec: number): number {
  const patient = patientValues(values, runs, patience);
  const refractoryHops = Math.ceil(refractorySec / EMBEDDING_SHIFT_SEC);
  let n = 0, first = 0;
  for (const len of runs) {
    let last = -Infinity;
    for (let i = 0; i < len; i++) {
      if (patient[first + i]! >= thr && i - last >= refractoryHops) {
        n++;
        last = i;
      }
    }
    first += len;
  }
  return n;
}

/** Hours of audio in rows of hops. */
export const hoursOf = (hops: number): number => (hops * EMBEDDING_SHIFT_SEC) / 3600;

/** Share of `reference` strictly below `x` (0..1). `reference` sorted ascending. */
export function percentileOf(x: number, reference: Float64Array): number {
  let lo = 0, hi = reference.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (reference[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return reference.length ? lo / reference.length : 0;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One try of a guard: its figures, why it was refused (none: accepted), and whether false alarms were among the reasons. */
export interface GuardTry<F> {
  figures: F;
  refusals: string[];
  tooManyAlarms: boolean;
}

/**
 * Tries the guard at each step in turn (the bias lowered by that much) and keeps the first try that
 * passes; a try refused for anything besides false alarms ends it (a lower bias only finds less), as
 * does the last step. Returns that try and its step.
 */
export function firstAccepted<F>(steps: readonly number[], attempt: (step: number) => GuardTry<F>): GuardTry<F> & { step: number } {
  if (steps.length === 0) throw new RangeError('firstAccepted: no steps');
  let last: GuardTry<F> & { step: number } = { ...attempt(steps[0]!), step: steps[0]! };
  for (const step of steps.slice(1)) {
    if (!last.tooManyAlarms || last.refusals.length > 1) break;
    last = { ...attempt(step), step };
  }
  return last;
}
