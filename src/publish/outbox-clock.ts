/**
 * The clock the outbox's age bound reads. A detection's age is the time the daemon has run with it
 * waiting, counted by the system's monotonic clock: a wall clock that jumps (a Raspberry Pi without
 * RTC booting on a stale time, then corrected by NTP) never ages a detection, and time the daemon was
 * stopped does not count (a long power-off cannot be told from a wrong clock without an RTC).
 *
 * The clock carries over restarts: it starts where the last run left it (saved in the watermark
 * file, and in every record as `o`), and only ever moves forward.
 */

/** Milliseconds of the system's monotonic clock (CLOCK_MONOTONIC: never set, never jumps). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

export class OutboxClock {
  private readonly startedAt: number;

  /** `resumeAt`: the clock's reading when the last run stopped (the highest one saved). */
  constructor(private readonly resumeAt: number, private readonly monotonic: () => number = monotonicMs) {
    this.startedAt = monotonic();
  }

  /** Milliseconds the outbox has been open, over all runs. */
  now(): number {
    return this.resumeAt + Math.max(0, this.monotonic() - this.startedAt);
  }
}
