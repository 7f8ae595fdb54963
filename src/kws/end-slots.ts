/**
 * One slot per keyword end of the prefix tree: the best path through that end that overlaps the
 * occurrence being tracked. A better overlapping path replaces it; a path that starts after the
 * occurrence ended closes it first (a separate occurrence). `onClose` receives each occurrence as it
 * closes. The detection search (CandidateTracker) and the score report (ScoreTracker) share this rule.
 */
export class EndSlots {
  private readonly active: Uint8Array;
  readonly confidence: Float64Array;
  readonly startFrame: Int32Array;
  readonly endFrame: Int32Array;
  private open = 0;

  constructor(slots: number, private readonly onClose: (slot: number) => void) {
    this.active = new Uint8Array(slots);
    this.confidence = new Float64Array(slots);
    this.startFrame = new Int32Array(slots);
    this.endFrame = new Int32Array(slots);
  }

  /** A new segment: nothing open (nothing is reported). */
  clear(): void {
    this.active.fill(0);
    this.open = 0;
  }

  /** A path through keyword end `slot` scored `confidence` from `startFrame` to `frame`. */
  offer(slot: number, confidence: number, startFrame: number, frame: number): void {
    if (this.active[slot] === 1) {
      const overlaps = startFrame <= this.endFrame[slot];
      if (overlaps && confidence < this.confidence[slot]) return;
      // A later, separate occurrence: the previous one is over.
      if (!overlaps) this.close(slot);
    }
    if (this.active[slot] === 0) this.open++;
    this.active[slot] = 1;
    this.confidence[slot] = confidence;
    this.startFrame[slot] = startFrame;
    this.endFrame[slot] = frame;
  }

  /**
   * After `frame`: closes the slots that have not improved for `trailingFrames`; returns the earliest
   * start of those still open (`Infinity` when none is).
   */
  sweep(frame: number, trailingFrames: number): number {
    let earliest = Infinity;
    if (this.open === 0) return earliest;
    for (let s = 0; s < this.active.length; s++) {
      if (this.active[s] === 0) continue;
      if (frame - this.endFrame[s] >= trailingFrames) this.close(s);
      else if (this.startFrame[s] < earliest) earliest = this.startFrame[s];
    }
    return earliest;
  }

  /** Segment end: every open slot closes. */
  closeAll(): void {
    for (let s = 0; s < this.active.length; s++) if (this.active[s] === 1) this.close(s);
  }

  private close(slot: number): void {
    this.active[slot] = 0;
    this.open--;
    this.onClose(slot);
  }
}
