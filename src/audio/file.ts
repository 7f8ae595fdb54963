/** FileSource: a WAV file played as 16 kHz mono chunks, at real time or as fast as the consumer runs. */
import { EventEmitter } from 'node:events';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AudioSourceError, SAMPLE_RATE, type AudioSource, type AudioSourceEvents } from './types.js';
import { readWavFile } from './wav-decode.js';

export { readWavFile, decodeWav } from './wav-decode.js';

export const DEFAULT_FILE_CHUNK_MS = 100;

export interface FileSourceOptions {
  path: string;
  /** 'realtime' paces chunks at the audio's own speed (like a mic); 'fast' yields between chunks only. */
  pace?: 'realtime' | 'fast';
  /** Samples per 'data' event, in milliseconds of audio. */
  chunkMs?: number;
}

/**
 * Decodes the whole file in start() (see readWavFile), then emits it chunk by chunk and 'end'.
 * stop() before the end halts delivery; no 'end' follows a stop().
 */
export class FileSource extends EventEmitter<AudioSourceEvents> implements AudioSource {
  readonly description: string;
  private readonly path: string;
  private readonly pace: 'realtime' | 'fast';
  private readonly chunkSamples: number;
  private state: 'idle' | 'starting' | 'playing' | 'stopped' = 'idle';
  private timer: NodeJS.Timeout | undefined;

  constructor(options: FileSourceOptions) {
    super();
    const chunkMs = options.chunkMs ?? DEFAULT_FILE_CHUNK_MS;
    if (!(chunkMs > 0) || !Number.isFinite(chunkMs)) {
      throw new AudioSourceError(`chunkMs must be a positive number of milliseconds, got ${chunkMs}`, `file:${options.path}`, true);
    }
    this.path = options.path;
    this.pace = options.pace ?? 'realtime';
    this.chunkSamples = Math.max(1, Math.round((chunkMs * SAMPLE_RATE) / 1000));
    this.description = `file:${options.path}`;
  }

  /** Resolves once the file is decoded; rejects with a fatal AudioSourceError if it cannot be. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new AudioSourceError(`${this.description} cannot be started again (a source starts once)`, this.description, true);
    this.state = 'starting';
    const samples = await readWavFile(this.path).catch((err: unknown) => {
      this.state = 'stopped';
      throw err;
    });
    if (this.stopped()) return;
    this.state = 'playing';
    this.emit('status', { state: 'running' });
    if (this.pace === 'realtime') this.playRealtime(samples);
    else void this.playFast(samples);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.emit('status', { state: 'stopped' });
  }

  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private emitChunk(samples: Float32Array, offset: number): number {
    const end = Math.min(offset + this.chunkSamples, samples.length);
    this.emit('data', { samples: samples.slice(offset, end), offset });
    return end;
  }

  private finish(): void {
    this.state = 'stopped';
    this.emit('end');
  }

  /** Schedules each chunk against the start time, so timer lateness does not accumulate. */
  private playRealtime(samples: Float32Array): void {
    const startedAt = performance.now();
    let offset = 0;
    const tick = (): void => {
      this.timer = undefined;
      if (this.stopped()) return;
      if (offset >= samples.length) return this.finish();
      offset = this.emitChunk(samples, offset);
      if (this.stopped()) return;
      const due = startedAt + (offset * 1000) / SAMPLE_RATE;
      this.timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    // The first chunk waits for a macrotask so that start()'s caller sees it resolve first.
    this.timer = setTimeout(tick, 0);
  }

  private async playFast(samples: Float32Array): Promise<void> {
    let offset = 0;
    while (offset < samples.length) {
      await yieldToEventLoop();
      if (this.stopped()) return;
      offset = this.emitChunk(samples, offset);
    }
    await yieldToEventLoop();
    if (!this.stopped()) this.finish();
  }
}
