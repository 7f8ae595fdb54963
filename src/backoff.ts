/** Exponential back-off: how long to wait before retry number `failures` (0 = the first retry). */
export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
  /** Spread each delay by up to this fraction either way (0..1), so many clients do not retry in step. */
  jitter?: number;
}

export function backoffDelayMs(failures: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** failures);
  const jitter = o.jitter ?? 0;
  return jitter > 0 ? Math.round(base * (1 - jitter + random() * 2 * jitter)) : base;
}
