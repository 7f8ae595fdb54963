import type { PrefixTree } from './prefix-tree.js';
import type { KeywordSpec, ScoreSink } from './types.js';

/**
 * Reports every occurrence of every keyword end scoring at or above the sink's floor, thresholds
 * ignored: one slot per keyword end keeps the best overlapping path until it has not improved for
 * `trailingFrames` (or a separate occurrence starts), then hands it to the sink. No overlap
 * resolution between terms and no refractory time: the sink sees each term on its own, which
 * counts at least the detections the search would make at any threshold (src/calibration applies
 * the refractory time when it counts).
 */
export class ScoreTracker {
  private readonly active: Uint8Array;
  private readonly conf: Float64Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private open = 0;
  private segmentId = '';
  private segmentStartSec = 0;

  constructor(
    private readonly tree: PrefixTree,
    private readonly keywords: readonly KeywordSpec[],
    private readonly frameShiftSec: number,
    private readonly trailingFrames: number,
    readonly sink: ScoreSink,
  ) {
    const slots = tree.ends.length;
    this.active = new Uint8Array(slots);
    this.conf = new Float64Array(slots);
    this.start = new Int32Array(slots);
    this.end = new Int32Array(slots);
  }

  startSegment(segmentId: string, segmentStartSec: number): void {
    this.segmentId = segmentId;
    this.segmentStartSec = segmentStartSec;
    this.active.fill(0);
    this.open = 0;
  }

  /** A path through keyword end `slot` scored `confidence` (at or above the floor) at `frame`. */
  offer(slot: number, confidence: number, startFrame: number, frame: number): void {
    if (this.active[slot] === 1) {
      const overlaps = startFrame <= this.end[slot];
      if (overlaps && confidence < this.conf[slot]) return;
      if (!overlaps) this.close(slot);
    }
    if (this.active[slot] === 0) this.open++;
    this.active[slot] = 1;
    this.conf[slot] = confidence;
    this.start[slot] = startFrame;
    this.end[slot] = frame;
  }

  /** After `frame`: slots that have not improved for the trailing frames are reported. */
  step(frame: number): void {
    if (this.open === 0) return;
    for (let s = 0; s < this.active.length; s++) {
      if (this.active[s] === 1 && frame - this.end[s] >= this.trailingFrames) this.close(s);
    }
  }

  /** Segment end: every open slot is reported. */
  flush(): void {
    for (let s = 0; s < this.active.length; s++) if (this.active[s] === 1) this.close(s);
  }

  private close(slot: number): void {
    this.active[slot] = 0;
    this.open--;
    const keyword = this.keywords[this.tree.ends[slot].keyword];
    this.sink.score({
      term: keyword.term,
      score: this.conf[slot],
      start: this.segmentStartSec + this.start[slot] * this.frameShiftSec,
      end: this.segmentStartSec + (this.end[slot] + 1) * this.frameShiftSec,
      segmentId: this.segmentId,
    });
  }
}
