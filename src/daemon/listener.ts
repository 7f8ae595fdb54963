import { EventEmitter } from 'node:events';
import { levelDbfs } from '../audio/level.js';
import { SAMPLE_RATE, type AudioChunk } from '../audio/types.js';
import type { Gate, GateEvent } from '../vad/types.js';
import type { AcousticModel, AcousticStream, FrameLogProbs } from '../model/types.js';
import { KeywordSearch, KEYWORD_SEARCH_DEFAULTS, type KeywordSearchOptions } from '../kws/search.js';
import { PairedKeywordSearch, type PhoneSearch } from '../kws/paired-search.js';
import { HeadDetector, headCovers, type HeadDetectorOptions, type HeadSegment } from '../kws/head-detector.js';
import type { SpeechEmbedding } from '../model/speech-embedding.js';
import type { TermHeads } from '../model/term-heads.js';
import type { Detection, KeywordSpec, ScoreSink, ThresholdOverrides } from '../kws/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { HeardDetection } from '../detection.js';

// The detection event's payload is defined in the leaf module, for the stages that only read detections.
export type { HeardDetection };

export interface SegmentInfo {
  segmentId: string;
  start: number;
  end: number;
  reason: string;
}

export interface ListenerEvents {
  detection: [HeardDetection];
  segment: [SegmentInfo];
}

export interface ListenerOptions {
  gate: Gate;
  model: AcousticModel;
  keywords: readonly KeywordSpec[];
  searchOptions?: Partial<KeywordSearchOptions>;
  /** Term heads on the speech embedding: keywords they cover are detected by them, the rest by the phone search. */
  heads?: ListenerHeads;
  /**
   * Final per-term thresholds (a site calibration) replacing the keywords' own, on the keyword scale
   * of whichever detector has the term (calibrate runs the same detectors as the daemon).
   */
  thresholds?: ThresholdOverrides;
  /** Sees every occurrence the detectors score, thresholds ignored (calibration, score history). */
  scores?: ScoreSink;
  logger?: Logger;
}

export interface ListenerHeads {
  embedding: SpeechEmbedding;
  heads: TermHeads;
  /** The head score reported as confidence 0.5 (HeadDetectorOptions.scorePivot). */
  scorePivot: number;
  /** Hops in a row a head must score (HeadDetectorOptions.patienceHops; default 1). */
  patienceHops?: number;
  onScores?: HeadDetectorOptions['onScores'];
}

/** Time spent in each stage, in seconds, for health and benchmarks. */
export interface ListenerTimings {
  audioSec: number;
  speechSec: number;
  vadSec: number;
  modelSec: number;
  searchSec: number;
  segments: number;
  /** Recent per-run model latencies (ms), newest last, at most 200. */
  recentInferenceMs: number[];
}

const RECENT_INFERENCES = 200;

interface OpenSegment {
  id: string;
  startSample: number;
  /** Null when every keyword has a head: the phone model does not run at all. */
  stream: AcousticStream | null;
  search: PhoneSearch;
  heads: HeadSegment | null;
  sumSquares: number;
  samples: number;
}

/**
 * The listening path: audio chunks -> voice-activity gate -> acoustic model (streamed per
 * segment) -> keyword search -> detections, emitted as soon as each term ends. Chunks are
 * processed strictly in order; `push` resolves once the chunk has been fully handled.
 */
export class Listener extends EventEmitter<ListenerEvents> {
  private search: PhoneSearch;
  private pendingSearch: PhoneSearch | null = null;
  private headDetector: HeadDetector | null;
  private pendingHeads: HeadDetector | null | undefined;
  private phoneKeywords: number;
  private pendingPhoneKeywords = 0;
  private open: OpenSegment | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private thresholds: ThresholdOverrides | undefined;
  private heads: ListenerHeads | undefined;
  private readonly timings: ListenerTimings = {
    audioSec: 0, speechSec: 0, vadSec: 0, modelSec: 0, searchSec: 0, segments: 0, recentInferenceMs: [],
  };

  constructor(private readonly opts: ListenerOptions) {
    super();
    this.logger = opts.logger ?? silentLogger;
    this.thresholds = opts.thresholds;
    this.heads = opts.heads;
    const { phones, heads } = this.split(opts.keywords, this.thresholds);
    this.search = this.buildSearch(phones, this.thresholds);
    this.phoneKeywords = phones.length;
    this.headDetector = heads;
  }

  /**
   * New keywords (and calibrated thresholds: omitted keeps the current ones, null drops them; and
   * term heads, e.g. with newly compiled ones: omitted keeps the current ones) take effect at the
   * next segment; the open one finishes with the old ones.
   */
  setKeywords(keywords: readonly KeywordSpec[], thresholds?: ThresholdOverrides | null, heads?: TermHeads): void {
    const next = thresholds === undefined ? this.thresholds : thresholds ?? undefined;
    if (heads && this.heads) this.heads = { ...this.heads, heads };
    const { phones, heads: detector } = this.split(keywords, next);
    this.pendingSearch = this.buildSearch(phones, next); // built now, so a bad vocabulary is refused at once
    this.pendingPhoneKeywords = phones.length;
    this.pendingHeads = detector;
    this.thresholds = next;
  }

  /** Keywords with a head go to the head detector; the rest to the phone search. */
  private split(keywords: readonly KeywordSpec[], thresholds: ThresholdOverrides | undefined): { phones: readonly KeywordSpec[]; heads: HeadDetector | null } {
    const h = this.heads;
    if (!h) return { phones: keywords, heads: null };
    const { covered, uncovered } = headCovers(h.heads, keywords);
    if (uncovered.length > 0) {
      this.logger.info('terms without a term head are detected by the phone model', { terms: uncovered.map((k) => k.term).slice(0, 20), count: uncovered.length });
    }
    const refractorySec = this.opts.searchOptions?.refractorySec ?? KEYWORD_SEARCH_DEFAULTS.refractorySec;
    const heads = covered.length === 0 ? null
      : new HeadDetector({ embedding: h.embedding, heads: h.heads, keywords: covered, scorePivot: h.scorePivot, patienceHops: h.patienceHops, refractorySec, onScores: h.onScores, thresholds, scores: this.opts.scores });
    return { phones: uncovered, heads };
  }

  push(chunk: AudioChunk): Promise<void> {
    const run = this.queue.then(() => this.handleChunk(chunk));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends any open segment (end of input) and reports what it held. */
  flush(): Promise<void> {
    const run = this.queue.then(async () => this.handleEvents(await this.opts.gate.flush()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  stats(): ListenerTimings {
    return { ...this.timings, recentInferenceMs: [...this.timings.recentInferenceMs] };
  }

  /** The keyword search for the model's frames: two models side by side (model.phones = both) get the paired search. */
  private buildSearch(keywords: readonly KeywordSpec[], thresholds: ThresholdOverrides | undefined): PhoneSearch {
    const m = this.opts.model;
    const init = {
      keywords, tokens: m.tokens, blankIndex: m.blankIndex, frameShiftSec: m.frameShiftSec, options: this.opts.searchOptions,
      thresholds, scores: this.opts.scores,
    };
    return (m.channels ?? 1) === 2 ? new PairedKeywordSearch(init) : new KeywordSearch(init);
  }

  private async handleChunk(chunk: AudioChunk): Promise<void> {
    this.timings.audioSec += chunk.samples.length / SAMPLE_RATE;
    const t0 = performance.now();
    const events = await this.opts.gate.push(chunk);
    this.timings.vadSec += (performance.now() - t0) / 1000;
    await this.handleEvents(events);
  }

  private async handleEvents(events: GateEvent[]): Promise<void> {
    for (const ev of events) {
      if (ev.type === 'start') await this.startSegment(ev.segmentId, ev.startSample);
      else if (ev.type === 'audio') await this.segmentAudio(ev.segmentId, ev.samples);
      else await this.endSegment(ev.segmentId, ev.endSample, ev.reason);
    }
  }

  private async startSegment(id: string, startSample: number): Promise<void> {
    if (this.pendingSearch) {
      this.search = this.pendingSearch;
      this.pendingSearch = null;
      this.phoneKeywords = this.pendingPhoneKeywords;
      if (this.pendingHeads !== undefined) this.headDetector = this.pendingHeads;
      this.pendingHeads = undefined;
    }
    this.search.startSegment(id, startSample / SAMPLE_RATE);
    const stream = this.phoneKeywords > 0 ? this.opts.model.createStream() : null;
    const heads = this.headDetector ? await this.headDetector.startSegment(id, startSample / SAMPLE_RATE) : null;
    this.open = { id, startSample, stream, search: this.search, heads, sumSquares: 0, samples: 0 };
    this.timings.segments++;
  }

  private async segmentAudio(id: string, samples: Float32Array): Promise<void> {
    const seg = this.open;
    if (!seg || seg.id !== id) throw new Error(`listener: audio for segment ${id}, which is not open`);
    for (let i = 0; i < samples.length; i++) seg.sumSquares += samples[i]! * samples[i]!;
    seg.samples += samples.length;
    this.timings.speechSec += samples.length / SAMPLE_RATE;
    if (seg.heads) this.emitDetections(seg, await this.timedHeads(() => seg.heads!.accept(samples)));
    if (seg.stream) this.searchFrames(seg, await this.timed(() => seg.stream!.accept(samples)));
  }

  private async endSegment(id: string, endSample: number, reason: string): Promise<void> {
    const seg = this.open;
    if (!seg || seg.id !== id) throw new Error(`listener: end of segment ${id}, which is not open`);
    if (seg.heads) this.emitDetections(seg, await this.timedHeads(() => seg.heads!.finish()));
    if (seg.stream) this.searchFrames(seg, await this.timed(() => seg.stream!.finish()));
    const t0 = performance.now();
    const dets = seg.search.endSegment();
    this.timings.searchSec += (performance.now() - t0) / 1000;
    this.emitDetections(seg, dets);
    this.open = null;
    this.emit('segment', { segmentId: id, start: seg.startSample / SAMPLE_RATE, end: endSample / SAMPLE_RATE, reason });
  }

  private async timed(run: () => Promise<FrameLogProbs | null>): Promise<FrameLogProbs | null> {
    const t0 = performance.now();
    const frames = await run();
    if (frames) {
      const ms = performance.now() - t0;
      this.timings.modelSec += ms / 1000;
      const recent = this.timings.recentInferenceMs;
      recent.push(ms);
      if (recent.length > RECENT_INFERENCES) recent.shift();
    }
    return frames;
  }

  /** Head detection counts as model time (embedding + heads). */
  private async timedHeads(run: () => Promise<Detection[]>): Promise<Detection[]> {
    const t0 = performance.now();
    const dets = await run();
    const ms = performance.now() - t0;
    this.timings.modelSec += ms / 1000;
    if (ms > 0.5) {
      const recent = this.timings.recentInferenceMs;
      recent.push(ms);
      if (recent.length > RECENT_INFERENCES) recent.shift();
    }
    return dets;
  }

  private searchFrames(seg: OpenSegment, frames: FrameLogProbs | null): void {
    if (!frames) return;
    const t0 = performance.now();
    const dets = seg.search.accept(frames);
    this.timings.searchSec += (performance.now() - t0) / 1000;
    this.emitDetections(seg, dets);
  }

  private emitDetections(seg: OpenSegment, dets: Detection[]): void {
    if (dets.length === 0) return;
    const level = levelDbfs(seg.sumSquares, seg.samples);
    for (const d of dets) {
      this.logger.debug('detected', { term: d.term, confidence: d.confidence, start: d.start });
      this.emit('detection', { ...d, levelDbfs: Math.round(level * 10) / 10 });
    }
  }
}
