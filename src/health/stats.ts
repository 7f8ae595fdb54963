/** Small statistics for health figures: percentiles (p95 inference time) over a rolling window. */

/**
 * The p-th percentile (0..100) of values, interpolating linearly between the closest ranks
 * (the same as numpy's default). Null for no values.
 */
export function percentile(values: ArrayLike<number>, p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be from 0 to 100, got ${p}`);
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** The last `capacity` numbers pushed (a ring buffer), for percentiles and means over recent work. */
export class RollingWindow {
  private readonly buffer: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
    this.buffer = new Float64Array(capacity);
  }

  push(value: number): void {
    if (!Number.isFinite(value)) return;
    this.buffer[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The values held, oldest first. */
  values(): number[] {
    const start = this.count < this.capacity ? 0 : this.next;
    return Array.from({ length: this.count }, (_, i) => this.buffer[(start + i) % this.capacity]!);
  }

  percentile(p: number): number | null {
    return percentile(this.buffer.subarray(0, this.count), p);
  }

  mean(): number | null {
    if (this.count === 0) return null;
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.buffer[i]!;
    return sum / this.count;
  }

  max(): number | null {
    if (this.count === 0) return null;
    let max = -Infinity;
    for (let i = 0; i < this.count; i++) max = Math.max(max, this.buffer[i]!);
    return max;
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
  }
}
