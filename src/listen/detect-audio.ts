/**
 * The daemon's listening path (gate, model, detectors) run over recorded audio as fast as it can be
 * read: what `gearhear detect`, `gearhear calibrate` and the benchmarks run. Below the CLI, so
 * anything that needs to listen to a file can, without importing a command.
 */
import type { Readable } from 'node:stream';
import { readWavFile } from '../audio/file.js';
import { openWavFile, streamAudio } from '../audio/wav-stream.js';
import { SAMPLE_RATE } from '../audio/types.js';
import { createGate, type GateOptions } from '../vad/index.js';
import type { AcousticModel } from '../model/types.js';
import type { KeywordSpec, ScoreSink, ThresholdOverrides } from '../kws/types.js';
import type { KeywordSearchOptions } from '../kws/search.js';
import { Listener, type ListenerHeads, type ListenerTimings } from '../daemon/listener.js';
import type { HeardDetection } from '../detection.js';

export interface FileDetections {
  file: string;
  durationSec: number;
  detections: HeardDetection[];
  timings: ListenerTimings;
}

export interface DetectFileOptions {
  model: AcousticModel;
  keywords: readonly KeywordSpec[];
  gate?: Partial<GateOptions>;
  search?: Partial<KeywordSearchOptions>;
  /** Term heads for the keywords they cover (the rest use the phone model). */
  heads?: ListenerHeads;
  /** Site-calibrated thresholds for the terms the phone search detects (Listener `thresholds`). */
  thresholds?: ThresholdOverrides;
  /** Sees every occurrence the phone search scores (calibration). */
  scores?: ScoreSink;
  /** Samples per chunk pushed through the pipeline (default 100 ms). */
  chunkSamples?: number;
}

/**
 * Runs the daemon's listening path over one WAV file as fast as possible, reading it in blocks:
 * memory does not grow with the file's length.
 */
export async function detectFile(file: string, options: DetectFileOptions): Promise<FileDetections> {
  const input = await openWavFile(file);
  return detectBlocks(file, streamAudio(input, { readWhole: () => readWavFile(file) }), options);
}

/** `gearhear detect -`: a WAV stream on stdin, or raw s16le 16 kHz mono PCM (as `audio.source=stdin` reads). */
export async function detectStream(name: string, stream: Readable, options: DetectFileOptions): Promise<FileDetections> {
  return detectBlocks(name, streamAudio({ name, bytes: stream }, { rawWhenNotWav: true }), options);
}

export async function detectSamples(file: string, pcm: Float32Array, options: DetectFileOptions): Promise<FileDetections> {
  return detectBlocks(file, [pcm], options);
}

/** Pushes blocks of any length through the listener in chunks of exactly `chunkSamples` (the last may be shorter). */
async function detectBlocks(
  file: string, blocks: AsyncIterable<Float32Array> | Iterable<Float32Array>, options: DetectFileOptions,
): Promise<FileDetections> {
  const gate = await createGate(options.gate);
  const listener = new Listener({
    gate, model: options.model, keywords: options.keywords, searchOptions: options.search, heads: options.heads,
    thresholds: options.thresholds, scores: options.scores,
  });
  const detections: HeardDetection[] = [];
  listener.on('detection', (d) => detections.push(d));
  const step = options.chunkSamples ?? SAMPLE_RATE / 10;
  let offset = 0;
  let carry = new Float32Array(0);
  try {
    for await (const block of blocks) {
      let samples = block;
      if (carry.length > 0) {
        samples = new Float32Array(carry.length + block.length);
        samples.set(carry);
        samples.set(block, carry.length);
      }
      let at = 0;
      for (; at + step <= samples.length; at += step, offset += step) {
        await listener.push({ samples: samples.slice(at, at + step), offset });
      }
      carry = samples.slice(at);
    }
    if (carry.length > 0) await listener.push({ samples: carry, offset });
    offset += carry.length;
    await listener.flush();
  } finally {
    await gate.dispose();
  }
  return { file, durationSec: offset / SAMPLE_RATE, detections, timings: listener.stats() };
}
