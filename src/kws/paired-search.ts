import { effectiveThreshold } from './prefix-tree.js';
import { KEYWORD_SEARCH_DEFAULTS, KeywordSearch, type KeywordSearchInit, type KeywordSearchOptions } from './search.js';
import type { Detection, KeywordSpec, TermScore } from './types.js';
import type { FrameLogProbs } from '../model/types.js';

/** The keyword search's surface, as the listener drives it (KeywordSearch and PairedKeywordSearch). */
export interface PhoneSearch {
  startSegment(segmentId: string, segmentStartSec: number): void;
  accept(frames: FrameLogProbs): Detection[];
  endSegment(): Detection[];
}

/** A model's score below this counts as this (the term is not heard there at all). */
export const PAIR_FLOOR = 0.2;
/** Two models' occurrences of a term belong together when their ends are at most this far apart. */
export const PAIR_TOLERANCE_SEC = 0.2;
/** Weight of the first model's score in the combined score's geometric mean. */
export const PAIR_WEIGHT_A = 0.5;

/**
 * Keyword search over two phone models' frames (PairedPhoneModel's two blocks, model.phones = both).
 * Each model's rows go through a KeywordSearch of their own, which reports every occurrence of every
 * term at or above PAIR_FLOOR; each occurrence of model a is matched with b's best occurrence of the
 * same term ending within PAIR_TOLERANCE_SEC, and scored
 *
 *   combined = a^w · max(b, PAIR_FLOOR)^(1 − w)      (w = PAIR_WEIGHT_A)
 *
 * so a term both models hear keeps its score, and speech one of them alone takes for a term (the
 * false alarms that score 1.0 in one model) scores lower. A detection is a combined score at or above
 * the term's threshold (calibrated, or the vocabulary's with the short-term raise), with the
 * refractory rule per term. Different terms are not resolved against each other. The score sink
 * (calibration) sees the combined scores. Feeding a segment in one call or in many gives the same
 * detections.
 */
export class PairedKeywordSearch implements PhoneSearch {
  private readonly a: KeywordSearch;
  private readonly b: KeywordSearch;
  private readonly tokenCount: number;
  private readonly options: KeywordSearchOptions;
  private readonly thresholds = new Map<string, number>();
  private readonly specs = new Map<string, KeywordSpec>();
  private fromA: TermScore[] = [];
  private fromB: TermScore[] = [];
  private readonly lastEndSec = new Map<string, number>();
  private frame = 0;
  private segmentStartSec = 0;

  constructor(private readonly init: KeywordSearchInit) {
    this.options = { ...KEYWORD_SEARCH_DEFAULTS, ...init.options };
    this.tokenCount = init.tokens.length;
    const sink = (list: () => TermScore[]) => ({ floor: PAIR_FLOOR, score: (s: TermScore) => void list().push(s) });
    // Each model's search reports occurrences only; its own detections are not used.
    this.a = new KeywordSearch({ ...init, thresholds: undefined, scores: sink(() => this.fromA) });
    this.b = new KeywordSearch({ ...init, thresholds: undefined, scores: sink(() => this.fromB) });
    for (const k of init.keywords) {
      const phones = Math.min(...k.pronunciations.map((p) => p.length));
      this.thresholds.set(k.term, init.thresholds?.get(k.term) ?? effectiveThreshold(k.threshold, phones, this.options));
      this.specs.set(k.term, k);
    }
  }

  startSegment(segmentId: string, segmentStartSec: number): void {
    this.a.startSegment(segmentId, segmentStartSec);
    this.b.startSegment(segmentId, segmentStartSec);
    this.fromA = [];
    this.fromB = [];
    this.frame = 0;
    this.segmentStartSec = segmentStartSec;
  }

  accept(frames: FrameLogProbs): Detection[] {
    const V = this.tokenCount, n = frames.frames * V;
    if (frames.channels !== 2 || frames.tokens !== V) {
      throw new Error(`paired keyword search: frames of ${frames.channels ?? 1} model(s) with ${frames.tokens} tokens, 2 models of ${V} expected`);
    }
    // Each model's block as it is (views, no copy).
    this.a.accept({ data: frames.data.subarray(0, n), frames: frames.frames, tokens: V, startFrame: frames.startFrame });
    this.b.accept({ data: frames.data.subarray(n, 2 * n), frames: frames.frames, tokens: V, startFrame: frames.startFrame });
    this.frame = frames.startFrame + frames.frames;
    // b reports an occurrence at most trailing + 1 frames after its end: a's occurrences ending
    // before then less the tolerance have every partner they will get.
    const settledSec = this.segmentStartSec + (this.frame - this.options.minTrailingFrames - 2) * this.init.frameShiftSec - PAIR_TOLERANCE_SEC;
    return this.resolve(settledSec);
  }

  endSegment(): Detection[] {
    this.a.endSegment();
    this.b.endSegment();
    const out = this.resolve(Infinity);
    this.fromA = [];
    this.fromB = [];
    return out;
  }

  /** Scores, reports and detects a's occurrences that ended by `settledSec`; drops b's that no later one can match. */
  private resolve(settledSec: number): Detection[] {
    const ready: TermScore[] = [], waiting: TermScore[] = [];
    for (const o of this.fromA) (o.end <= settledSec ? ready : waiting).push(o);
    if (ready.length === 0) return [];
    ready.sort((x, y) => x.start - y.start || y.end - x.end);
    this.fromA = waiting;
    const out: Detection[] = [];
    for (const o of ready) {
      let partner = PAIR_FLOOR;
      for (const p of this.fromB) if (p.term === o.term && Math.abs(p.end - o.end) <= PAIR_TOLERANCE_SEC) partner = Math.max(partner, p.score);
      const score = o.score ** PAIR_WEIGHT_A * partner ** (1 - PAIR_WEIGHT_A);
      const sink = this.init.scores;
      if (sink && score >= sink.floor) sink.score({ ...o, score });
      const threshold = this.thresholds.get(o.term)!;
      if (score < threshold) continue;
      if (o.start - (this.lastEndSec.get(o.term) ?? -Infinity) < this.options.refractorySec) continue;
      this.lastEndSec.set(o.term, o.end);
      const k = this.specs.get(o.term)!;
      out.push({ term: o.term, category: k.category, severity: k.severity, confidence: score, threshold, start: o.start, end: o.end, segmentId: o.segmentId });
    }
    const oldest = Math.min(settledSec, ...this.fromA.map((o) => o.end)) - 2 * PAIR_TOLERANCE_SEC;
    this.fromB = this.fromB.filter((p) => p.end >= oldest);
    return out;
  }
}
