/**
 * Bounds the work requests can start: a few run at once, a few more wait their turn, and beyond
 * that a request is refused at once (the router answers it "busy"). A flood of `request/clip` or
 * `request/health` then costs a bounded amount of memory and processes, and the listening path
 * keeps its share of the event loop.
 */

export interface RequestQueueLimits {
  /** Requests served at once. */
  running: number;
  /** Requests waiting for a free slot; one more is refused. */
  waiting: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestQueueLimits = { running: 2, waiting: 16 };

export class RequestQueue {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limits: RequestQueueLimits = DEFAULT_REQUEST_LIMITS) {
    if (!(Number.isInteger(limits.running) && limits.running >= 1)) throw new RangeError(`requests served at once must be a whole number of at least 1, got ${limits.running}`);
    if (!(Number.isInteger(limits.waiting) && limits.waiting >= 0)) throw new RangeError(`requests waiting must be a whole number of at least 0, got ${limits.waiting}`);
  }

  /** Requests being served plus those waiting. */
  get size(): number { return this.active + this.queue.length; }

  /**
   * Runs `work` once a slot is free and resolves with its result; returns null at once, without
   * running it, when every slot is taken and the queue is full.
   */
  run<T>(work: () => Promise<T>): Promise<T> | null {
    if (this.active >= this.limits.running && this.queue.length >= this.limits.waiting) return null;
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.active++;
        // The slot is free (and the next request started) before the caller hears the result.
        work().finally(() => {
          this.active--;
          this.queue.shift()?.();
        }).then(resolve, reject);
      };
      if (this.active < this.limits.running) start();
      else this.queue.push(start);
    });
  }
}
