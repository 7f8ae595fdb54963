import { EMBEDDING_DIM, EMBEDDING_SHIFT_SEC, type EmbeddingStream, type SpeechEmbedding } from '../model/speech-embedding.js';
import type { TermHeads } from '../model/term-heads.js';
import type { Detection, KeywordSpec, ScoreSink, ThresholdOverrides } from './types.js';

export interface HeadDetectorOptions {
  embedding: SpeechEmbedding;
  heads: TermHeads;
  /** Keywords to listen for; those the heads do not know are ignored here (see `covers`). */
  keywords: readonly KeywordSpec[];
  /**
   * The head score reported as confidence 0.5. Head scores pile up near 1, so they are put on the
   * phone search's scale: logit(confidence) = logit(score) - logit(scorePivot). A keyword's
   * threshold (kws.threshold, 0.5 by default, or its vocabulary line's) then means the same for both.
   */
  scorePivot: number;
  /** The same term is not reported again within this time (seconds). */
  refractorySec: number;
  /**
   * Hops in a row a term must score at or above its threshold (openWakeWord's "patience"): a term's
   * confidence is the lowest of its last `patienceHops` hops in the segment. 1 (the default) reports on
   * the first hop; each more hop waits 80 ms and drops one-hop flukes.
   */
  patienceHops?: number;
  /** Every hop's scores of every head term (benchmarks: sub-threshold scores too). */
  onScores?: (endSec: number, scores: Float32Array, segmentId: string) => void;
  /** Final per-term thresholds (a site calibration, on the keyword scale) replacing the keywords' own. */
  thresholds?: ThresholdOverrides;
  /** Sees each hop's confidence of every keyword at or above its floor (calibration, score history). */
  scores?: ScoreSink;
}

interface HeadKeyword {
  spec: KeywordSpec;
  column: number;
  threshold: number;
  durationSec: number;
  /** Hops to wait before reporting, when a longer keyword containing this one may still fire. */
  holdHops: number;
  /** Columns of the longer keywords that contain this one. */
  containedIn: number[];
}

const HOLD_MARGIN_HOPS = 2;
const MAX_HOLD_HOPS = 10;

/** Which of these keywords have a head in `heads`. */
export function headCovers(heads: TermHeads, keywords: readonly KeywordSpec[]): { covered: KeywordSpec[]; uncovered: KeywordSpec[] } {
  const covered: KeywordSpec[] = [];
  const uncovered: KeywordSpec[] = [];
  for (const k of keywords) (heads.termIndex.has(k.term) ? covered : uncovered).push(k);
  return { covered, uncovered };
}

const logit = (p: number): number => Math.log(Math.max(p, 1e-7) / Math.max(1 - p, 1e-7));

const contains = (longer: string, shorter: string): boolean => longer !== shorter && ` ${longer} `.includes(` ${shorter} `);

/**
 * Term detection from the speech embedding: every 80 ms the last 16 embeddings (1.28 s) go through
 * the heads, and a keyword is reported on the first hop its score has been at or above its
 * threshold for `patienceHops` hops in a row (model.headsPatience; 1: the first hop). A keyword
 * that a longer keyword contains ("bearing" in "ball bearing", "bearing housing") waits until the
 * longer one could have ended, and is dropped if the longer one fires.
 */
export class HeadDetector {
  private readonly keywords: HeadKeyword[];
  /** logit(scorePivot), once: confidence() runs for every keyword on every hop. */
  private readonly pivotLogit: number;
  private readonly lastReported = new Map<string, number>();
  private init: Float32Array | null = null;
  readonly patienceHops: number;

  constructor(private readonly opts: HeadDetectorOptions) {
    const { heads } = opts;
    this.pivotLogit = logit(opts.scorePivot);
    this.patienceHops = opts.patienceHops ?? 1;
    if (!Number.isInteger(this.patienceHops) || this.patienceHops < 1) throw new RangeError(`patienceHops must be a whole number of hops >= 1, got ${opts.patienceHops}`);
    const covered = headCovers(heads, opts.keywords).covered;
    const duration = (term: string): number => heads.terms[heads.termIndex.get(term)!]!.durationSec;
    this.keywords = covered.map((spec) => {
      const longer = covered.filter((o) => contains(o.term, spec.term));
      const extra = Math.max(0, ...longer.map((o) => duration(o.term) - duration(spec.term)));
      return {
        spec,
        column: heads.termIndex.get(spec.term)!,
        threshold: opts.thresholds?.get(spec.term) ?? spec.threshold,
        durationSec: duration(spec.term),
        holdHops: longer.length === 0 ? 0 : Math.min(MAX_HOLD_HOPS, Math.ceil(extra / EMBEDDING_SHIFT_SEC) + HOLD_MARGIN_HOPS),
        containedIn: longer.map((o) => heads.termIndex.get(o.term)!),
      };
    });
  }

  /** A head score on the keyword scale (see scorePivot). */
  confidence(score: number): number {
    return 1 / (1 + Math.exp(-(logit(score) - this.pivotLogit)));
  }

  get size(): number {
    return this.keywords.length;
  }

  /** The embedding a fresh stream's window is padded with (a mel window of ones), computed once. */
  private async initialEmbedding(): Promise<Float32Array> {
    this.init ??= await this.opts.embedding.initialEmbedding();
    return this.init;
  }

  async startSegment(segmentId: string, startSec: number): Promise<HeadSegment> {
    return new HeadSegment(this, this.opts.heads, this.opts.embedding.createStream(), await this.initialEmbedding(), segmentId, startSec);
  }

  /**
   * @internal One hop's scores -> what to report now (called by HeadSegment). With patience, a term's
   * score is the lowest of its last patienceHops hops (`seg.patient`), and it ended where they began.
   */
  decide(seg: HeadSegment, scores: Float32Array, hopEndSec: number): Detection[] {
    this.opts.onScores?.(hopEndSec, scores, seg.segmentId);
    const out: Detection[] = [];
    const sink = this.opts.scores;
    const endSec = hopEndSec - (this.patienceHops - 1) * EMBEDDING_SHIFT_SEC;
    for (const [i, k] of this.keywords.entries()) {
      const score = seg.patient(i, this.confidence(scores[k.column]!));
      if (sink && score >= sink.floor) {
        sink.score({ term: k.spec.term, score, start: Math.max(seg.startSec, endSec - k.durationSec), end: endSec, segmentId: seg.segmentId });
      }
      if (score < k.threshold) continue;
      const last = this.lastReported.get(k.spec.term);
      if (last !== undefined && endSec - last < this.opts.refractorySec) continue;
      if (k.holdHops > 0) {
        seg.hold(k, score, endSec);
        continue;
      }
      out.push(this.report(k, score, endSec, seg));
    }
    return out;
  }

  /** @internal */
  report(k: HeadKeyword, score: number, endSec: number, seg: HeadSegment): Detection {
    this.lastReported.set(k.spec.term, endSec);
    seg.reported(k.column, endSec);
    return {
      term: k.spec.term, category: k.spec.category, severity: k.spec.severity,
      confidence: Math.round(score * 1000) / 1000, threshold: k.threshold,
      start: Math.max(seg.startSec, Math.round((endSec - k.durationSec) * 1000) / 1000),
      end: Math.round(endSec * 1000) / 1000, segmentId: seg.segmentId,
    };
  }

  /** @internal */
  isRefractory(term: string, endSec: number): boolean {
    const last = this.lastReported.get(term);
    return last !== undefined && endSec - last < this.opts.refractorySec;
  }
}

interface Held {
  k: HeadKeyword;
  score: number;
  endSec: number;
  deadlineHop: number;
}

/** One speech segment through the embedding stream and the heads. */
export class HeadSegment {
  private readonly window: Float32Array;
  private hops = 0;
  /** Each keyword's confidences of the last patienceHops hops, a ring (keyword-major). */
  private readonly recent: Float32Array;
  private readonly held = new Map<number, Held>();
  /** Columns reported in this segment, with when. */
  private readonly reportedAt = new Map<number, number>();

  constructor(
    private readonly detector: HeadDetector, private readonly heads: TermHeads, private readonly stream: EmbeddingStream,
    init: Float32Array, readonly segmentId: string, readonly startSec: number,
  ) {
    const win = heads.manifest.window;
    this.recent = new Float32Array(detector.size * detector.patienceHops);
    this.window = new Float32Array(win * EMBEDDING_DIM);
    for (let i = 0; i < win; i++) this.window.set(init, i * EMBEDDING_DIM);
  }

  async accept(samples: Float32Array): Promise<Detection[]> {
    const { data, count } = await this.stream.accept(samples);
    const out: Detection[] = [];
    for (let i = 0; i < count; i++) {
      this.window.copyWithin(0, EMBEDDING_DIM);
      this.window.set(data.subarray(i * EMBEDDING_DIM, (i + 1) * EMBEDDING_DIM), this.window.length - EMBEDDING_DIM);
      out.push(...this.hop(await this.heads.score(this.window, 1)));
    }
    return out;
  }

  /** One hop's scores (one per head term) -> what to report now. */
  hop(scores: Float32Array): Detection[] {
    this.hops++;
    // The term ended within the hop just completed: report its middle.
    const endSec = this.startSec + (this.hops - 0.5) * EMBEDDING_SHIFT_SEC;
    return [...this.detector.decide(this, scores, endSec), ...this.releaseHeld(false)];
  }

  /** End of the segment: what is still held is reported. */
  async finish(): Promise<Detection[]> {
    return this.releaseHeld(true);
  }

  /** @internal Keyword i's confidence on this hop -> the lowest of its last patienceHops (0 until the segment has that many). */
  patient(i: number, confidence: number): number {
    const n = this.detector.patienceHops;
    if (n === 1) return confidence;
    this.recent[i * n + ((this.hops - 1) % n)] = confidence;
    if (this.hops < n) return 0;
    let low = confidence;
    for (let j = i * n; j < (i + 1) * n; j++) low = Math.min(low, this.recent[j]!);
    return low;
  }

  /** @internal */
  hold(k: HeadKeyword, score: number, endSec: number): void {
    const h = this.held.get(k.column);
    if (h) {
      if (score > h.score) h.score = score;
      return;
    }
    this.held.set(k.column, { k, score, endSec, deadlineHop: this.hops + k.holdHops });
  }

  /** @internal */
  reported(column: number, endSec: number): void {
    this.reportedAt.set(column, endSec);
  }

  private releaseHeld(all: boolean): Detection[] {
    const out: Detection[] = [];
    for (const [col, h] of this.held) {
      const longerFired = h.k.containedIn.some((c) => this.reportedAt.has(c) && this.reportedAt.get(c)! >= h.endSec - 0.5);
      if (longerFired) {
        this.held.delete(col);
        continue;
      }
      if (!all && this.hops < h.deadlineHop) continue;
      this.held.delete(col);
      if (!this.detector.isRefractory(h.k.spec.term, h.endSec)) out.push(this.detector.report(h.k, h.score, h.endSec, this));
    }
    return out;
  }
}
