/**
 * The last few seconds of the raw audio stream (before the voice gate), as 16-bit samples keyed by
 * their absolute sample index, so a clip can start before the speech segment that held the term.
 */
import type { AudioChunk } from '../audio/types.js';
import { floatToInt16 } from './wav.js';

export class AudioRing {
  private readonly buf: Int16Array;
  /** Absolute index one past the newest sample held. */
  private endIndex = 0;
  /** Absolute index of the oldest sample held. */
  private startIndex = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`audio ring capacity must be above 0 samples, got ${capacity}`);
    this.buf = new Int16Array(capacity);
  }

  /** Index one past the newest sample. */
  get end(): number { return this.endIndex; }
  /** Index of the oldest sample still held. */
  get start(): number { return this.startIndex; }

  push(chunk: AudioChunk): void {
    // A jump in the stream's sample count (a source restarted from 0): what is held no longer lines up.
    if (chunk.offset !== this.endIndex) this.startIndex = this.endIndex = chunk.offset;
    let samples = floatToInt16(chunk.samples);
    let at = chunk.offset;
    if (samples.length > this.capacity) {
      at += samples.length - this.capacity;
      samples = samples.subarray(samples.length - this.capacity);
      this.startIndex = at;
    }
    for (let i = 0; i < samples.length; i++) this.buf[(at + i) % this.capacity] = samples[i]!;
    this.endIndex = chunk.offset + chunk.samples.length;
    this.startIndex = Math.max(this.startIndex, this.endIndex - this.capacity);
  }

  /** The samples of [from, to) that are still held, and the index where they begin. */
  slice(from: number, to: number): { from: number; samples: Int16Array } {
    const a = Math.max(from, this.startIndex);
    const b = Math.min(to, this.endIndex);
    const samples = new Int16Array(Math.max(0, b - a));
    for (let i = 0; i < samples.length; i++) samples[i] = this.buf[(a + i) % this.capacity]!;
    return { from: a, samples };
  }
}
