import type { EventEmitter } from 'node:events';

/** Every source delivers 16 kHz mono float PCM in [-1, 1]. */
export const SAMPLE_RATE = 16000;

export interface AudioChunk {
  /** 16 kHz mono samples in [-1, 1]. */
  samples: Float32Array;
  /** Index (in samples since the source started) of samples[0]. */
  offset: number;
}

export interface AudioSourceEvents {
  data: [AudioChunk];
  /** The source has no more audio (file or stdin ended). A mic never ends by itself. */
  end: [];
  /** A fault the source could not recover from, or a reported recoverable one (see `fatal`). */
  error: [AudioSourceError];
  /** Supervisor state changes (recorder restarted, stalled, ...), for health/MQTT. */
  status: [{ state: 'running' | 'restarting' | 'stalled' | 'stopped'; detail?: string }];
}

export class AudioSourceError extends Error {
  constructor(message: string, readonly source: string, readonly fatal: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AudioSourceError';
  }
}

/**
 * A source of audio: mic, file, stdin. start() resolves once audio can flow. Sources that can hold
 * their input (a file, a pipe) have pause() and resume(), which AudioFeed (feed.ts) calls while
 * the listening path is behind; a microphone cannot wait, and has neither.
 */
export interface AudioSource extends EventEmitter<AudioSourceEvents> {
  readonly description: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause?(): void;
  resume?(): void;
}
