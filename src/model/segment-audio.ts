/**
 * The audio of one segment as it arrives, addressed by sample index since the segment started.
 * Audio before `keepFrom` may be dropped (the streaming graph no longer needs it).
 */
export class SegmentAudio {
  private buffer = new Float32Array(16000 * 2);
  /** Segment index of buffer[0], and samples held. */
  private first = 0;
  private held = 0;

  /** Samples received since the segment started. */
  get length(): number {
    return this.first + this.held;
  }

  append(samples: Float32Array, keepFrom = 0): void {
    const drop = keepFrom - this.first;
    if (drop > this.buffer.length / 2) {
      this.buffer.copyWithin(0, drop, this.held);
      this.held -= drop;
      this.first += drop;
    }
    if (this.held + samples.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(this.buffer.length * 2, this.held + samples.length));
      grown.set(this.buffer.subarray(0, this.held));
      this.buffer = grown;
    }
    this.buffer.set(samples, this.held);
    this.held += samples.length;
  }

  /** Samples [from, to) of the segment (a view; `from` must not have been dropped). */
  view(from: number, to = this.length): Float32Array {
    if (from < this.first) throw new Error(`segment audio before sample ${this.first} was dropped (asked for ${from})`);
    return this.buffer.subarray(from - this.first, Math.min(to, this.length) - this.first);
  }
}
