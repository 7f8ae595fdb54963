import { EndSlots } from './end-slots.js';
import type { PrefixTree } from './prefix-tree.js';
import type { Detection, KeywordSpec } from './types.js';

/**
 * A keyword occurrence that passed its cover threshold and has ended, waiting for overlap resolution;
 * `reportable` when it passed its threshold too (otherwise it only covers shorter terms).
 */
interface Candidate {
  keyword: number;
  reportable: boolean;
  phones: number;
  threshold: number;
  confidence: number;
  startFrame: number;
  endFrame: number;
}

export interface CandidateOptions {
  /** Frames after a candidate's last improvement before it counts as ended. */
  trailingFrames: number;
  /** The same term is not reported again when it starts less than this after its previous end. */
  refractorySec: number;
  /**
   * A chain of overlapping occurrences older than this (frames since its first start) is resolved even
   * while paths that could still overlap it are alive; later occurrences overlapping it are dropped.
   */
  maxWaitFrames: number;
}

/**
 * Turns per-frame keyword-end scores into detections: one slot per keyword end keeps the best
 * overlapping occurrence until the path has left the keyword (trailing rule), then ended
 * occurrences wait until nothing still alive in the search could overlap them, and are resolved:
 * a longer term covering a shorter one wins, otherwise the best-scoring non-overlapping set, and
 * the refractory time per term applies last. A term a calibration raised above its vocabulary
 * threshold is tracked in a second set of slots between the two: there it is not reported, but it
 * still covers the shorter terms inside it ("gearbox" is not reported as "gear").
 */
export class CandidateTracker {
  private readonly slots: EndSlots;
  /** Occurrences at or above their cover threshold but below their threshold. */
  private readonly covers: EndSlots;
  private pending: Candidate[] = [];
  /** Whether `pending` is still in (start, longest first) order. */
  private pendingSorted = true;
  /** Source time of the last reported end, per keyword (kept across segments). */
  private readonly lastEndSec: Float64Array;
  /** Last frame of the latest reported occurrence in this segment: nothing may overlap it any more. */
  private reportedUntil = -1;
  private segmentId = '';
  private segmentStartSec = 0;

  constructor(
    private readonly tree: PrefixTree,
    private readonly keywords: readonly KeywordSpec[],
    private readonly frameShiftSec: number,
    private readonly options: CandidateOptions,
  ) {
    this.slots = new EndSlots(tree.ends.length, (slot) => this.ended(this.slots, slot, true));
    this.covers = new EndSlots(tree.ends.length, (slot) => this.ended(this.covers, slot, false));
    this.lastEndSec = new Float64Array(keywords.length).fill(-Infinity);
  }

  startSegment(segmentId: string, segmentStartSec: number): void {
    this.segmentId = segmentId;
    this.segmentStartSec = segmentStartSec;
    this.slots.clear();
    this.covers.clear();
    this.pending = [];
    this.reportedUntil = -1;
  }

  /** A path through keyword end `slot` scored `confidence` (already over its cover threshold) at `frame`. */
  offer(slot: number, confidence: number, startFrame: number, frame: number): void {
    (confidence >= this.tree.ends[slot].threshold ? this.slots : this.covers).offer(slot, confidence, startFrame, frame);
  }

  /**
   * After `frame`: closes slots whose trailing frames have passed, then reports the groups of ended
   * occurrences that end before `aliveStart` (the earliest start of any path still alive).
   */
  step(frame: number, aliveStart: number, out: Detection[]): void {
    const trailing = this.options.trailingFrames;
    const blockStart = Math.min(aliveStart, this.slots.sweep(frame, trailing), this.covers.sweep(frame, trailing));
    if (this.pending.length > 0) this.resolve(blockStart, frame - this.options.maxWaitFrames, out);
  }

  /** Segment end: everything open is final. */
  flush(out: Detection[]): void {
    this.slots.closeAll();
    this.covers.closeAll();
    this.resolve(Infinity, Infinity, out);
  }

  /** An occurrence closed in its slot: it waits in `pending` for overlap resolution. */
  private ended(slots: EndSlots, slot: number, reportable: boolean): void {
    const end = this.tree.ends[slot];
    this.pendingSorted = false;
    this.pending.push({
      keyword: end.keyword,
      reportable,
      phones: end.phones,
      threshold: end.threshold,
      confidence: slots.confidence[slot],
      startFrame: slots.startFrame[slot],
      endFrame: slots.endFrame[slot],
    });
  }

  /**
   * Resolves, front to back, the groups of mutually overlapping candidates whose members all started
   * before `blockStart` (nothing alive can cover them) or that started before `overdue`. The first
   * group that must wait holds back all the later ones.
   */
  private resolve(blockStart: number, overdue: number, out: Detection[]): void {
    const pending = this.pending;
    if (!this.pendingSorted) pending.sort((a, b) => a.startFrame - b.startFrame || b.endFrame - a.endFrame);
    this.pendingSorted = true;
    let from = 0;
    while (from < pending.length) {
      let to = from + 1;
      let groupEnd = pending[from].endFrame;
      let lastStart = pending[from].startFrame;
      while (to < pending.length && pending[to].startFrame <= groupEnd) {
        lastStart = pending[to].startFrame;
        groupEnd = Math.max(groupEnd, pending[to++].endFrame);
      }
      // A group must wait while a path alive in the search could still become a longer term covering
      // one of its members (it started no later than that member); a path that started later can only
      // overlap partly, and will be dropped as overlapping what is reported now.
      if (lastStart >= blockStart && pending[from].startFrame >= overdue) break;
      this.report(pending.slice(from, to), out);
      from = to;
    }
    if (from > 0) pending.splice(0, from);
  }

  private report(group: Candidate[], out: Detection[]): void {
    const covered = (c: Candidate): boolean =>
      group.some((d) => d !== c && d.keyword !== c.keyword && d.phones > c.phones && d.startFrame <= c.startFrame && d.endFrame >= c.endFrame);
    const contenders = group.filter((c) => c.reportable && c.startFrame > this.reportedUntil && !covered(c));
    contenders.sort((a, b) => b.confidence - a.confidence || b.endFrame - b.startFrame - (a.endFrame - a.startFrame) || a.startFrame - b.startFrame);
    const chosen: Candidate[] = [];
    for (const c of contenders) {
      if (!chosen.some((d) => c.startFrame <= d.endFrame && d.startFrame <= c.endFrame)) chosen.push(c);
    }
    chosen.sort((a, b) => a.startFrame - b.startFrame);
    for (const c of chosen) {
      const start = this.segmentStartSec + c.startFrame * this.frameShiftSec;
      const end = this.segmentStartSec + (c.endFrame + 1) * this.frameShiftSec;
      if (start - this.lastEndSec[c.keyword] < this.options.refractorySec) continue;
      this.lastEndSec[c.keyword] = end;
      this.reportedUntil = Math.max(this.reportedUntil, c.endFrame);
      const keyword = this.keywords[c.keyword];
      out.push({
        term: keyword.term,
        category: keyword.category,
        severity: keyword.severity,
        confidence: c.confidence,
        threshold: c.threshold,
        start,
        end,
        segmentId: this.segmentId,
      });
    }
  }
}
