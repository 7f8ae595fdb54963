import { EventEmitter } from 'node:events';
import { SAMPLE_RATE, type AudioChunk } from '../audio/types.js';
import type { Gate, GateEvent } from '../vad/types.js';
import type { AcousticModel, AcousticStream, FrameLogProbs } from '../model/types.js';
import { KeywordSearch, type KeywordSearchOptions } from '../kws/search.js';
import type { Detection, KeywordSpec, ScoreSink, ThresholdOverrides } from '../kws/types.js';
import { silentLogger, type Logger } from '../log.js';

/** A detection with the loudness of its speech segment (dBFS, >= -150). */
export interface HeardDetection extends Detection {
  levelDbfs: number;
}

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
  /** Final per-term thresholds (a site calibration) replacing the keywords' own. */
  thresholds?: ThresholdOverrides;
  /** Sees every scored occurrence, thresholds ignored (calibration, score history). */
  scores?: ScoreSink;
  logger?: Logger;
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

const MIN_DBFS = -150;
const RECENT_INFERENCES = 200;

interface OpenSegment {
  id: string;
  startSample: number;
  stream: AcousticStream;
  search: KeywordSearch;
  sumSquares: number;
  samples: number;
}

/**
 * The listening path: audio chunks -> voice-activity gate -> acoustic model (streamed per
 * segment) -> keyword search -> detections, emitted as soon as each term ends. Chunks are
 * processed strictly in order; `push` resolves once the chunk has been fully handled.
 */
export class Listener extends EventEmitter<ListenerEvents> {
  private search: KeywordSearch;
  private pendingSearch: KeywordSearch | null = null;
  private open: OpenSegment | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private thresholds: ThresholdOverrides | undefined;
  private readonly timings: ListenerTimings = {
    audioSec: 0, speechSec: 0, vadSec: 0, modelSec: 0, searchSec: 0, segments: 0, recentInferenceMs: [],
  };

  constructor(private readonly opts: ListenerOptions) {
    super();
    this.logger = opts.logger ?? silentLogger;
    this.thresholds = opts.thresholds;
    this.search = this.buildSearch(opts.keywords, this.thresholds);
  }

  /**
   * New keywords (and calibrated thresholds: omitted keeps the current ones, null drops them) take
   * effect at the next segment; the open one finishes with the old ones.
   */
  setKeywords(keywords: readonly KeywordSpec[], thresholds?: ThresholdOverrides | null): void {
    const next = thresholds === undefined ? this.thresholds : thresholds ?? undefined;
    this.pendingSearch = this.buildSearch(keywords, next); // built now, so a bad vocabulary is refused at once
    this.thresholds = next;
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

  private buildSearch(keywords: readonly KeywordSpec[], thresholds: ThresholdOverrides | undefined): KeywordSearch {
    const m = this.opts.model;
    return new KeywordSearch({
      keywords, tokens: m.tokens, blankIndex: m.blankIndex, frameShiftSec: m.frameShiftSec, options: this.opts.searchOptions,
      thresholds, scores: this.opts.scores,
    });
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
      if (ev.type === 'start') this.startSegment(ev.segmentId, ev.startSample);
      else if (ev.type === 'audio') await this.segmentAudio(ev.segmentId, ev.samples);
      else await this.endSegment(ev.segmentId, ev.endSample, ev.reason);
    }
  }

  private startSegment(id: string, startSample: number): void {
    if (this.pendingSearch) {
      this.search = this.pendingSearch;
      this.pendingSearch = null;
    }
    this.search.startSegment(id, startSample / SAMPLE_RATE);
    this.open = { id, startSample, stream: this.opts.model.createStream(), search: this.search, sumSquares: 0, samples: 0 };
    this.timings.segments++;
  }

  private async segmentAudio(id: string, samples: Float32Array): Promise<void> {
    const seg = this.open;
    if (!seg || seg.id !== id) throw new Error(`listener: audio for segment ${id}, which is not open`);
    for (let i = 0; i < samples.length; i++) seg.sumSquares += samples[i]! * samples[i]!;
    seg.samples += samples.length;
    this.timings.speechSec += samples.length / SAMPLE_RATE;
    this.searchFrames(seg, await this.timed(() => seg.stream.accept(samples)));
  }

  private async endSegment(id: string, endSample: number, reason: string): Promise<void> {
    const seg = this.open;
    if (!seg || seg.id !== id) throw new Error(`listener: end of segment ${id}, which is not open`);
    this.searchFrames(seg, await this.timed(() => seg.stream.finish()));
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

  private searchFrames(seg: OpenSegment, frames: FrameLogProbs | null): void {
    if (!frames) return;
    const t0 = performance.now();
    const dets = seg.search.accept(frames);
    this.timings.searchSec += (performance.now() - t0) / 1000;
    this.emitDetections(seg, dets);
  }

  private emitDetections(seg: OpenSegment, dets: Detection[]): void {
    if (dets.length === 0) return;
    const rms = Math.sqrt(seg.sumSquares / Math.max(1, seg.samples));
    const levelDbfs = Math.max(MIN_DBFS, 20 * Math.log10(rms + 1e-12));
    for (const d of dets) {
      this.logger.debug('detected', { term: d.term, confidence: d.confidence, start: d.start });
      this.emit('detection', { ...d, levelDbfs: Math.round(levelDbfs * 10) / 10 });
    }
  }
}
