import { EndSlots } from './end-slots.js';
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
  private readonly slots: EndSlots;
  private segmentId = '';
  private segmentStartSec = 0;

  constructor(
    private readonly tree: PrefixTree,
    private readonly keywords: readonly KeywordSpec[],
    private readonly frameShiftSec: number,
    private readonly trailingFrames: number,
    readonly sink: ScoreSink,
  ) {
    this.slots = new EndSlots(tree.ends.length, (slot) => this.report(slot));
  }

  startSegment(segmentId: string, segmentStartSec: number): void {
    this.segmentId = segmentId;
    this.segmentStartSec = segmentStartSec;
    this.slots.clear();
  }

  /** A path through keyword end `slot` scored `confidence` (at or above the floor) at `frame`. */
  offer(slot: number, confidence: number, startFrame: number, frame: number): void {
    this.slots.offer(slot, confidence, startFrame, frame);
  }

  /** After `frame`: slots that have not improved for the trailing frames are reported. */
  step(frame: number): void {
    this.slots.sweep(frame, this.trailingFrames);
  }

  /** Segment end: every open slot is reported. */
  flush(): void {
    this.slots.closeAll();
  }

  private report(slot: number): void {
    const keyword = this.keywords[this.tree.ends[slot].keyword];
    const { confidence, startFrame, endFrame } = this.slots;
    this.sink.score({
      term: keyword.term,
      score: confidence[slot],
      start: this.segmentStartSec + startFrame[slot] * this.frameShiftSec,
      end: this.segmentStartSec + (endFrame[slot] + 1) * this.frameShiftSec,
      segmentId: this.segmentId,
    });
  }
}
