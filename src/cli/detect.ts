import { readWavFile } from '../audio/file.js';
import { SAMPLE_RATE } from '../audio/types.js';
import { createGate, type GateOptions } from '../vad/index.js';
import type { OnnxAcousticModel } from '../model/onnx-model.js';
import type { KeywordSpec, ScoreSink, ThresholdOverrides } from '../kws/types.js';
import type { KeywordSearchOptions } from '../kws/search.js';
import { Listener, type HeardDetection, type ListenerTimings } from '../daemon/listener.js';

export interface FileDetections {
  file: string;
  durationSec: number;
  detections: HeardDetection[];
  timings: ListenerTimings;
}

export interface DetectFileOptions {
  model: OnnxAcousticModel;
  keywords: readonly KeywordSpec[];
  gate?: Partial<GateOptions>;
  search?: Partial<KeywordSearchOptions>;
  thresholds?: ThresholdOverrides;
  scores?: ScoreSink;
  /** Samples per chunk pushed through the pipeline (default 100 ms). */
  chunkSamples?: number;
}

/** Runs the daemon's listening path over one WAV file as fast as possible. */
export async function detectFile(file: string, options: DetectFileOptions): Promise<FileDetections> {
  const pcm = await readWavFile(file);
  return detectSamples(file, pcm, options);
}

export async function detectSamples(file: string, pcm: Float32Array, options: DetectFileOptions): Promise<FileDetections> {
  const gate = await createGate(options.gate);
  const listener = new Listener({
    gate, model: options.model, keywords: options.keywords, searchOptions: options.search, thresholds: options.thresholds, scores: options.scores,
  });
  const detections: HeardDetection[] = [];
  listener.on('detection', (d) => detections.push(d));
  const step = options.chunkSamples ?? SAMPLE_RATE / 10;
  try {
    for (let offset = 0; offset < pcm.length; offset += step) {
      await listener.push({ samples: pcm.subarray(offset, offset + step), offset });
    }
    await listener.flush();
  } finally {
    await gate.dispose();
  }
  return { file, durationSec: pcm.length / SAMPLE_RATE, detections, timings: listener.stats() };
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** One JSON object per detection: the `gearhear detect --json` contract. */
export function detectionJson(file: string, d: HeardDetection): string {
  return JSON.stringify({
    file, term: d.term, category: d.category, severity: d.severity, start: round(d.start), end: round(d.end),
    confidence: round(d.confidence), threshold: d.threshold, segmentId: d.segmentId, levelDbfs: d.levelDbfs,
  });
}

export function detectionLine(file: string, d: HeardDetection): string {
  const span = `${d.start.toFixed(2)}-${d.end.toFixed(2)}s`;
  return `${file}  ${span.padEnd(14)} ${d.term}  [${d.category}, ${d.severity}]  confidence ${d.confidence.toFixed(2)}`;
}
