import type { FrameLogProbs } from '../model/types.js';
import { buildPrefixTree, type PrefixTree } from './prefix-tree.js';
import { CandidateTracker } from './search-candidates.js';
import { KEYWORD_SEARCH_DEFAULTS, keywordConfidence, type KeywordSearchOptions } from './search-options.js';
import { ScoreTracker } from './search-scores.js';
import { NodeStates } from './search-states.js';
import type { Detection, KeywordSpec, ScoreSink, ThresholdOverrides } from './types.js';

export { KEYWORD_SEARCH_DEFAULTS, type KeywordSearchOptions } from './search-options.js';

export interface KeywordSearchInit {
  keywords: readonly KeywordSpec[];
  /** The model's tokens; pronunciations are looked up here. */
  tokens: readonly string[];
  blankIndex: number;
  frameShiftSec: number;
  options?: Partial<KeywordSearchOptions>;
  /** Final per-term thresholds replacing the keywords' own (a site calibration). */
  thresholds?: ThresholdOverrides;
  /**
   * Receives every occurrence scoring at or above its floor, thresholds ignored (calibration, score
   * history). The detections stay exactly those of a search without a sink; the search does more work.
   */
  scores?: ScoreSink;
}

/**
 * Keyword search over streaming CTC log-probabilities (confidence formula: search-options.ts).
 *
 * Token passing over a prefix tree of every pronunciation: each node has a phone state and a
 * blank-after state holding (L, start frame, phone peaks); new paths enter at every frame; the best
 * path into a state wins (Viterbi on L, ties to the earlier start); paths are dropped as soon as no
 * keyword below them can still reach its threshold (an upper bound on the confidence, so pruning
 * never drops a path that could still pass) or they exceed `maxKeywordSec`. Work per frame is at most 2 x nodes.
 *
 * Usage: startSegment(), accept() each block of frames as the model yields it (detections come back
 * as soon as a term has ended), endSegment() for the rest. Feeding a segment in one call or in many
 * pieces gives the same detections.
 */
export class KeywordSearch {
  readonly options: Readonly<KeywordSearchOptions>;
  readonly tree: PrefixTree;
  private readonly tokenCount: number;
  private readonly blankIndex: number;
  private readonly maxFrames: number;
  private readonly candidates: CandidateTracker;
  private readonly scores: ScoreTracker | null;
  private readonly scoreFloor: number;
  // Double-buffered: states after the previous frame, and the frame being computed.
  private cur: NodeStates;
  private next: NodeStates;
  private curActive: Int32Array; private nextActive: Int32Array;
  private curCount = 0;
  private nextCount = 0;
  private readonly touched: Int32Array;
  private stamp = 0;
  private frame = 0;
  private inSegment = false;

  constructor(init: KeywordSearchInit) {
    this.options = { ...KEYWORD_SEARCH_DEFAULTS, ...init.options };
    const { keywords, tokens, blankIndex, frameShiftSec } = init;
    if (!(frameShiftSec > 0)) throw new Error(`keyword search: frameShiftSec must be > 0 (got ${frameShiftSec})`);
    if (!Number.isInteger(blankIndex) || blankIndex < 0 || blankIndex >= tokens.length) {
      throw new Error(`keyword search: blankIndex ${blankIndex} is not an index into the ${tokens.length} model tokens`);
    }
    this.tree = buildPrefixTree(keywords, tokens, this.options, { thresholds: init.thresholds, scoreFloor: init.scores?.floor });
    this.tokenCount = tokens.length;
    this.blankIndex = blankIndex;
    this.maxFrames = Math.max(1, Math.round(this.options.maxKeywordSec / frameShiftSec));
    this.candidates = new CandidateTracker(this.tree, keywords, frameShiftSec, {
      trailingFrames: this.options.minTrailingFrames,
      refractorySec: this.options.refractorySec,
      maxWaitFrames: 2 * this.maxFrames,
    });
    this.scores = init.scores ? new ScoreTracker(this.tree, keywords, frameShiftSec, this.options.minTrailingFrames, init.scores) : null;
    this.scoreFloor = init.scores ? init.scores.floor : Infinity;
    const n = this.tree.nodeCount;
    this.cur = new NodeStates(n);
    this.next = new NodeStates(n);
    this.curActive = new Int32Array(n); this.nextActive = new Int32Array(n);
    this.touched = new Int32Array(n);
  }

  /**
   * Begins a speech segment; frame 0 of it is at `segmentStartSec` in the source. A segment left open
   * is dropped with whatever it had pending (call endSegment() to get that).
   */
  startSegment(segmentId: string, segmentStartSec: number): void {
    this.candidates.startSegment(segmentId, segmentStartSec);
    this.scores?.startSegment(segmentId, segmentStartSec);
    this.curCount = 0;
    this.frame = 0;
    this.inSegment = true;
  }

  /** Feeds the next frames of the segment; returns the detections that became final. */
  accept(frames: FrameLogProbs): Detection[] {
    if (!this.inSegment) throw new Error('keyword search: accept() called before startSegment()');
    if (frames.tokens !== this.tokenCount) {
      throw new Error(`keyword search: frames have ${frames.tokens} tokens but the search was built for ${this.tokenCount}`);
    }
    if ((frames.channels ?? 1) !== 1) throw new Error(`keyword search: frames of ${frames.channels} models need the paired search`);
    if (frames.startFrame !== this.frame) {
      throw new Error(`keyword search: expected frame ${this.frame} of the segment next, got frames starting at ${frames.startFrame}`);
    }
    if (frames.data.length < frames.frames * frames.tokens) {
      throw new Error(`keyword search: frame data holds ${frames.data.length} values, ${frames.frames} x ${frames.tokens} expected`);
    }
    const out: Detection[] = [];
    for (let f = 0; f < frames.frames; f++) {
      const aliveStart = this.advance(frames.data, f * this.tokenCount);
      this.candidates.step(this.frame, aliveStart, out);
      this.scores?.step(this.frame);
      this.frame++;
    }
    return out;
  }

  /** Ends the segment: pending occurrences are final, the search state is cleared. */
  endSegment(): Detection[] {
    const out: Detection[] = [];
    if (this.inSegment) {
      this.candidates.flush(out);
      this.scores?.flush();
    }
    this.inSegment = false;
    this.curCount = 0;
    return out;
  }

  /**
   * One frame of token passing; returns the earliest start frame among the paths still alive at the
   * thresholds' bounds. Paths are pruned at the prune bounds (lower when a score sink listens); a path
   * between the two bounds can never reach a threshold, so it changes no detection and no aliveStart.
   */
  private advance(data: Float32Array, offset: number): number {
    const { nodeToken, nodeRepeatsParent, childStart, childList, nodeBound, continueBound, pruneNodeBound, pruneContinueBound, endStart, ends } = this.tree;
    let best = -Infinity;
    for (let k = 0; k < this.tokenCount; k++) if (data[offset + k] > best) best = data[offset + k];

    const t = this.frame;
    this.stamp++;
    this.nextCount = 0;
    // New paths enter the first phone of every pronunciation.
    for (let c = childStart[0]; c < childStart[1]; c++) this.relaxPhone(childList[c], 0, t, 0, -Infinity);
    const cur = this.cur;
    for (let i = 0; i < this.curCount; i++) {
      const n = this.curActive[i];
      const pl = cur.phoneScore[n], ps = cur.phoneStart[n], bl = cur.blankScore[n], bs = cur.blankStart[n];
      const phoneDone = pl > -Infinity ? cur.phoneDone[n] + cur.phonePeak[n] : 0;
      if (pl > -Infinity) {
        this.relaxPhone(n, pl, ps, cur.phoneDone[n], cur.phonePeak[n]);
        this.relaxBlank(n, pl, ps, phoneDone);
      }
      if (bl > -Infinity) this.relaxBlank(n, bl, bs, cur.blankDone[n]);
      for (let c = childStart[n]; c < childStart[n + 1]; c++) {
        const child = childList[c];
        // Identical consecutive phones need the blank in between.
        const fromPhone = nodeRepeatsParent[child] === 1 ? -Infinity : pl;
        if (fromPhone > bl || (fromPhone === bl && fromPhone > -Infinity && ps < bs)) this.relaxPhone(child, pl, ps, phoneDone, -Infinity);
        else if (bl > -Infinity) this.relaxPhone(child, bl, bs, cur.blankDone[n], -Infinity);
      }
    }

    const next = this.next;
    const nextActive = this.nextActive;
    const nextCount = this.nextCount;
    const maxFrames = this.maxFrames;
    const minPhonePosterior = this.options.minPhonePosterior;
    const scoreFloor = this.scoreFloor;
    const blankRatio = data[offset + this.blankIndex] - best;
    let count = 0;
    let aliveStart = 2147483647;
    for (let i = 0; i < nextCount; i++) {
      const n = nextActive[i];
      let pl = next.phoneScore[n];
      if (pl > -Infinity) {
        const logp = data[offset + nodeToken[n]];
        pl += logp - best;
        if (logp > next.phonePeak[n]) next.phonePeak[n] = logp;
        if (pl < pruneNodeBound[n] || t - next.phoneStart[n] >= maxFrames) pl = -Infinity;
        next.phoneScore[n] = pl;
      }
      let bl = next.blankScore[n];
      if (bl > -Infinity) {
        bl += blankRatio;
        if (bl < pruneContinueBound[n] || t - next.blankStart[n] >= maxFrames) bl = -Infinity;
        next.blankScore[n] = bl;
      }
      if (pl === -Infinity && bl === -Infinity) continue;
      nextActive[count++] = n;
      if (pl > -Infinity) {
        const start = next.phoneStart[n];
        if (start < aliveStart && pl >= nodeBound[n]) aliveStart = start;
        for (let e = endStart[n]; e < endStart[n + 1]; e++) {
          const end = ends[e];
          const confidence = keywordConfidence(pl, next.phoneDone[n] + next.phonePeak[n], end.phones, end.boost, minPhonePosterior);
          if (confidence >= end.coverThreshold) this.candidates.offer(e, confidence, start, t);
          if (confidence >= scoreFloor) this.scores!.offer(e, confidence, start, t);
        }
      }
      if (bl >= continueBound[n] && next.blankStart[n] < aliveStart) aliveStart = next.blankStart[n];
    }

    // Swap buffers: this frame's states become the current ones.
    this.next = cur;
    this.cur = next;
    this.nextActive = this.curActive;
    this.curActive = nextActive;
    this.curCount = count;
    return aliveStart;
  }

  /** Marks node n as reached this frame, clearing its next-frame states on first touch. */
  private touch(n: number): void {
    if (this.touched[n] === this.stamp) return;
    this.touched[n] = this.stamp;
    this.next.phoneScore[n] = -Infinity;
    this.next.blankScore[n] = -Infinity;
    this.nextActive[this.nextCount++] = n;
  }

  /** Viterbi max into n's phone state; on equal scores the earlier start (longer match) wins. */
  private relaxPhone(n: number, score: number, start: number, done: number, peak: number): void {
    this.touch(n);
    const next = this.next;
    if (score > next.phoneScore[n] || (score === next.phoneScore[n] && start < next.phoneStart[n])) {
      next.phoneScore[n] = score;
      next.phoneStart[n] = start;
      next.phoneDone[n] = done;
      next.phonePeak[n] = peak;
    }
  }

  private relaxBlank(n: number, score: number, start: number, done: number): void {
    this.touch(n);
    const next = this.next;
    if (score > next.blankScore[n] || (score === next.blankScore[n] && start < next.blankStart[n])) {
      next.blankScore[n] = score;
      next.blankStart[n] = start;
      next.blankDone[n] = done;
    }
  }
}
