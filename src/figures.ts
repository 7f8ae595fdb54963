/**
 * How numbers read where people read them, in log lines and health payloads: no `0.9588749856330664`.
 * One rule, applied where those are produced (the logger, the health monitor), not at each call site.
 * Detections have their own fixed rule (publish/round.ts), which their consumers rely on.
 */

/** Decimal places kept. */
export const FIGURE_DECIMALS = 4;
/** Below 10^-3 a number keeps this many significant digits instead, so a small figure does not read as 0. */
export const SMALL_FIGURE_DIGITS = 3;

/** Integers and non-finite numbers unchanged; others to 4 decimals (3 significant digits when smaller than 0.001). */
export function roundFigure(x: number): number {
  if (Number.isInteger(x) || !Number.isFinite(x)) return x;
  const r = Math.abs(x) < 0.001 ? Number(x.toPrecision(SMALL_FIGURE_DIGITS)) : Number(x.toFixed(FIGURE_DECIMALS));
  return Object.is(r, -0) ? 0 : r;
}

/** A JSON.stringify replacer that rounds every number of the value, however deep. */
export function roundingReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' ? roundFigure(value) : value;
}
