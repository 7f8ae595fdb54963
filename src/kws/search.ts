import type { FrameLogProbs } from '../model/types.js';
import { buildPrefixTree, type PrefixTree } from './prefix-tree.js';
import { CandidateTracker } from './search-candidates.js';
import type { Detection, KeywordSpec } from './types.js';

/**
 * Keyword search over streaming CTC log-probabilities.
 *
 * Scoring. For every frame t let r_t(k) = log p_t(k) - max_j log p_t(j) (<= 0; 0 for the frame's best
 * token). A keyword path (its phones, with blanks allowed between and repeated phones separated by a
 * blank, as CTC requires) gets L = sum of r_t(token on the path at t) over its span, i.e. the log
 * ratio of the keyword path to the best unconstrained path over the same frames. Then
 *
 *   confidence = min(1, exp(L / N + boost))        N = phones in the pronunciation
 *
 * = the per-phone geometric mean of (keyword path likelihood / best path likelihood), times e^boost.
 * It is 1.0 when the keyword path is the best path and falls as it diverges; normalising by phones
 * (not frames) keeps it independent of speaking rate and of how many blank frames a peaky model
 * puts inside the word, so one wrong phone costs a 5-phone term the same at any speed.
 * Short terms match babble more easily: pronunciations under `minPhones` are refused and those
 * under `shortTermPhones` get their threshold raised by `shortTermThresholdRaise` per missing phone.
 *
 * Search. Token passing over a prefix tree of every pronunciation: each node has a "in its phone"
 * and a "blank after it" state holding (L, start frame); new paths enter at every frame; paths are
 * dropped as soon as no keyword below them can still reach its threshold (an exact bound, so pruning
 * never loses a detection) or they exceed `maxKeywordSec`. Work per frame is bounded by 2 x nodes.
 */
export interface KeywordSearchOptions {
  /** The same term is not reported again if it starts less than this many seconds after its last end. */
  refractorySec: number;
  /** Paths longer than this are dropped (bounds latency and work). */
  maxKeywordSec: number;
  /** Frames after the term's last phone stopped being the best continuation before it is reported. */
  minTrailingFrames: number;
  /** Pronunciations with fewer phones are refused. */
  minPhones: number;
  /** Pronunciations with fewer phones than this get a stricter threshold... */
  shortTermPhones: number;
  /** ...raised by this much per missing phone (at most 0.99). */
  shortTermThresholdRaise: number;
}

export const KEYWORD_SEARCH_DEFAULTS: Readonly<KeywordSearchOptions> = {
  refractorySec: 1.0,
  maxKeywordSec: 3.0,
  minTrailingFrames: 3,
  minPhones: 2,
  shortTermPhones: 4,
  shortTermThresholdRaise: 0.05,
};

/** Suggested per-term threshold for configuration defaults (one wrong phone in five drops below it). */
export const DEFAULT_KEYWORD_THRESHOLD = 0.5;

export interface KeywordSearchInit {
  keywords: readonly KeywordSpec[];
  /** The model's tokens; pronunciations are looked up here. */
  tokens: readonly string[];
  blankIndex: number;
  frameShiftSec: number;
  options?: Partial<KeywordSearchOptions>;
}

export class KeywordSearch {
  readonly options: Readonly<KeywordSearchOptions>;
  readonly tree: PrefixTree;
  private readonly tokenCount: number;
  private readonly blankIndex: number;
  private readonly maxFrames: number;
  private readonly candidates: CandidateTracker;
  private readonly ratio: Float64Array;
  // Double-buffered per-node states: phone state (p*) and blank-after state (b*), log ratio and start.
  private curPL: Float64Array; private curPS: Int32Array; private curBL: Float64Array; private curBS: Int32Array;
  private nextPL: Float64Array; private nextPS: Int32Array; private nextBL: Float64Array; private nextBS: Int32Array;
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
    this.tree = buildPrefixTree(keywords, tokens, this.options);
    this.tokenCount = tokens.length;
    this.blankIndex = blankIndex;
    this.maxFrames = Math.max(1, Math.round(this.options.maxKeywordSec / frameShiftSec));
    this.candidates = new CandidateTracker(this.tree, keywords, frameShiftSec, {
      trailingFrames: this.options.minTrailingFrames,
      refractorySec: this.options.refractorySec,
    });
    const n = this.tree.nodeCount;
    this.ratio = new Float64Array(tokens.length);
    this.curPL = new Float64Array(n); this.curPS = new Int32Array(n); this.curBL = new Float64Array(n); this.curBS = new Int32Array(n);
    this.nextPL = new Float64Array(n); this.nextPS = new Int32Array(n); this.nextBL = new Float64Array(n); this.nextBS = new Int32Array(n);
    this.curActive = new Int32Array(n); this.nextActive = new Int32Array(n);
    this.touched = new Int32Array(n);
  }

  /** Begins a speech segment; frame 0 of it is at `segmentStartSec` in the source. */
  startSegment(segmentId: string, segmentStartSec: number): void {
    this.candidates.startSegment(segmentId, segmentStartSec);
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
      this.frame++;
    }
    return out;
  }

  /** Ends the segment: pending occurrences are final, the search state is cleared. */
  endSegment(): Detection[] {
    const out: Detection[] = [];
    if (this.inSegment) this.candidates.flush(out);
    this.inSegment = false;
    this.curCount = 0;
    return out;
  }

  /** One frame of token passing; returns the earliest start frame among the paths still alive. */
  private advance(data: Float32Array, offset: number): number {
    const { nodeToken, nodeRepeatsParent, childStart, childList, nodeBound, continueBound, endStart, ends } = this.tree;
    const ratio = this.ratio;
    let best = -Infinity;
    for (let k = 0; k < this.tokenCount; k++) if (data[offset + k] > best) best = data[offset + k];
    for (let k = 0; k < this.tokenCount; k++) ratio[k] = data[offset + k] - best;

    const t = this.frame;
    this.stamp++;
    this.nextCount = 0;
    // New paths enter the first phone of every pronunciation.
    for (let c = childStart[0]; c < childStart[1]; c++) this.relaxPhone(childList[c], 0, t);
    const cPL = this.curPL, cPS = this.curPS, cBL = this.curBL, cBS = this.curBS;
    for (let i = 0; i < this.curCount; i++) {
      const n = this.curActive[i];
      const pl = cPL[n], ps = cPS[n], bl = cBL[n], bs = cBS[n];
      if (pl > -Infinity) { this.relaxPhone(n, pl, ps); this.relaxBlank(n, pl, ps); }
      if (bl > -Infinity) this.relaxBlank(n, bl, bs);
      for (let c = childStart[n]; c < childStart[n + 1]; c++) {
        const child = childList[c];
        // Identical consecutive phones need the blank in between.
        const fromPhone = nodeRepeatsParent[child] === 1 ? -Infinity : pl;
        const phoneWins = fromPhone > bl || (fromPhone === bl && ps < bs);
        const l = phoneWins ? fromPhone : bl;
        if (l > -Infinity) this.relaxPhone(child, l, phoneWins ? ps : bs);
      }
    }

    const nPL = this.nextPL, nPS = this.nextPS, nBL = this.nextBL, nBS = this.nextBS;
    const nextActive = this.nextActive;
    const nextCount = this.nextCount;
    const maxFrames = this.maxFrames;
    const blankRatio = ratio[this.blankIndex];
    let count = 0;
    let aliveStart = 2147483647;
    for (let i = 0; i < nextCount; i++) {
      const n = nextActive[i];
      let pl = nPL[n];
      if (pl > -Infinity) {
        pl += ratio[nodeToken[n]];
        if (pl < nodeBound[n] || t - nPS[n] >= maxFrames) pl = -Infinity;
        nPL[n] = pl;
      }
      let bl = nBL[n];
      if (bl > -Infinity) {
        bl += blankRatio;
        if (bl < continueBound[n] || t - nBS[n] >= maxFrames) bl = -Infinity;
        nBL[n] = bl;
      }
      if (pl === -Infinity && bl === -Infinity) continue;
      nextActive[count++] = n;
      if (pl > -Infinity) {
        if (nPS[n] < aliveStart) aliveStart = nPS[n];
        for (let e = endStart[n]; e < endStart[n + 1]; e++) {
          const end = ends[e];
          const confidence = Math.min(1, Math.exp(pl / end.phones + end.boost));
          if (confidence >= end.threshold) this.candidates.offer(e, confidence, nPS[n], t);
        }
      }
      if (bl > -Infinity && nBS[n] < aliveStart) aliveStart = nBS[n];
    }

    // Swap buffers: this frame's "next" becomes the current state.
    this.curPL = nPL; this.curPS = nPS; this.curBL = nBL; this.curBS = nBS;
    this.nextPL = cPL; this.nextPS = cPS; this.nextBL = cBL; this.nextBS = cBS;
    this.nextActive = this.curActive; this.curActive = nextActive;
    this.curCount = count;
    return aliveStart;
  }

  /** Marks node n as reached this frame, clearing its next-frame states on first touch. */
  private touch(n: number): void {
    if (this.touched[n] === this.stamp) return;
    this.touched[n] = this.stamp;
    this.nextPL[n] = -Infinity;
    this.nextBL[n] = -Infinity;
    this.nextActive[this.nextCount++] = n;
  }

  /** Viterbi max into n's phone state; on equal scores the earlier start (longer match) wins. */
  private relaxPhone(n: number, l: number, start: number): void {
    this.touch(n);
    if (l > this.nextPL[n] || (l === this.nextPL[n] && start < this.nextPS[n])) { this.nextPL[n] = l; this.nextPS[n] = start; }
  }

  private relaxBlank(n: number, l: number, start: number): void {
    this.touch(n);
    if (l > this.nextBL[n] || (l === this.nextBL[n] && start < this.nextBS[n])) { this.nextBL[n] = l; this.nextBS[n] = start; }
  }
}
