import type { AudioChunk } from '../audio/types.js';

/** What a gate says about the audio pushed to it: speech segments with their audio. */
export type GateEvent =
  | { type: 'start'; segmentId: string; startSample: number }
  /** Audio belonging to an open segment (pre-roll first, in order, no gaps). */
  | { type: 'audio'; segmentId: string; samples: Float32Array; offset: number }
  | { type: 'end'; segmentId: string; endSample: number; reason: 'silence' | 'max-length' | 'flush' };

export interface GateStats {
  /** Samples seen and samples inside segments, for the VAD duty cycle. */
  samplesIn: number;
  samplesGated: number;
  segments: number;
  /** Analysis frames (32 ms) seen. */
  frames?: number;
  /** Frames the energy pre-gate marked as possible speech. */
  candidateFrames?: number;
  /** Frames that ran through the neural VAD model (Silero); absent for the energy-only gate. */
  modelFrames?: number;
}

/** Voice-activity gate: only what it emits reaches the keyword model. */
export interface Gate {
  push(chunk: AudioChunk): Promise<GateEvent[]>;
  /** Close any open segment (end of input). */
  flush(): Promise<GateEvent[]>;
  stats(): GateStats;
  dispose(): Promise<void>;
}
