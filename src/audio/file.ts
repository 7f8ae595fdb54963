/**
 * FileSource: a WAV file played as 16 kHz mono chunks, at real time or as fast as the consumer
 * runs. The file is read in blocks (wav-stream.ts), so memory does not grow with its length, and
 * delivery can be paused while the consumer is behind (AudioFeed, feed.ts).
 */
import { EventEmitter } from 'node:events';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AudioSourceError, SAMPLE_RATE, type AudioSource, type AudioSourceEvents } from './types.js';
import { readWavFile } from './wav-decode.js';
import { openWavFile, streamAudio } from './wav-stream.js';

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
 * start() opens the file and checks its header (rejecting with a fatal AudioSourceError if it
 * cannot be read), then the file is emitted chunk by chunk and 'end'. A read error later on is a
 * fatal 'error'. stop() before the end halts delivery; no 'end' follows a stop(). pause() holds
 * delivery until resume(); at real-time pace the schedule resumes where it stopped.
 */
export class FileSource extends EventEmitter<AudioSourceEvents> implements AudioSource {
  readonly description: string;
  private readonly path: string;
  private readonly pace: 'realtime' | 'fast';
  private readonly chunkSamples: number;
  private state: 'idle' | 'starting' | 'playing' | 'stopped' = 'idle';
  private blocks: AsyncIterator<Float32Array> | undefined;
  private pending = new Float32Array(0);
  private exhausted = false;
  private paused = false;
  /** Ends the current wait (a realtime delay or a pause) early: stop() and resume() call it. */
  private wake: (() => void) | undefined;
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

  /** Resolves once the header is read and the first block decoded; rejects with a fatal AudioSourceError if it cannot be. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new AudioSourceError(`${this.description} cannot be started again (a source starts once)`, this.description, true);
    this.state = 'starting';
    try {
      const input = await openWavFile(this.path);
      this.blocks = streamAudio(input, { readWhole: () => readWavFile(this.path) })[Symbol.asyncIterator]();
      await this.fill(); // the header is checked here, before start() resolves
    } catch (err) {
      this.state = 'stopped';
      void this.blocks?.return?.();
      throw err;
    }
    if (this.stopped()) return;
    this.state = 'playing';
    this.emit('status', { state: 'running' });
    void this.play();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.interruptWait();
    void this.blocks?.return?.(undefined).catch(() => undefined); // closes the file
    this.emit('status', { state: 'stopped' });
  }

  /** Holds delivery (the consumer is behind) until resume(). */
  pause(): void {
    if (this.state === 'playing' || this.state === 'starting') this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.interruptWait();
  }

  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private interruptWait(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits `ms` (Infinity: until woken); stop() and resume() end the wait early. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      if (Number.isFinite(ms)) this.timer = setTimeout(() => this.interruptWait(), ms);
    });
  }

  /** Reads blocks until a whole chunk is pending or the file is exhausted. */
  private async fill(): Promise<void> {
    while (this.pending.length < this.chunkSamples && !this.exhausted) {
      const next = await this.blocks!.next();
      if (next.done) {
        this.exhausted = true;
        break;
      }
      const joined = new Float32Array(this.pending.length + next.value.length);
      joined.set(this.pending);
      joined.set(next.value, this.pending.length);
      this.pending = joined;
    }
  }

  private async play(): Promise<void> {
    let offset = 0;
    let startedAt = performance.now();
    try {
      // The first chunk waits for a macrotask so that start()'s caller sees it resolve first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      for (;;) {
        if (this.stopped()) return;
        await this.fill();
        if (this.stopped()) return;
        if (this.pending.length === 0) break;
        while (this.paused && !this.stopped()) {
          const pausedAt = performance.now();
          await this.wait(Infinity);
          startedAt += performance.now() - pausedAt; // real time resumes where it stopped
        }
        if (this.pace === 'realtime') {
          const due = startedAt + (offset * 1000) / SAMPLE_RATE;
          const late = due - performance.now();
          if (late > 0) await this.wait(late);
          if (this.paused) continue; // paused during the wait: hold this chunk
        } else await yieldToEventLoop();
        if (this.stopped()) return;
        const samples = this.pending.slice(0, this.chunkSamples);
        this.pending = this.pending.subarray(samples.length);
        this.emit('data', { samples, offset });
        offset += samples.length;
      }
      await yieldToEventLoop();
      if (this.stopped()) return;
      this.state = 'stopped';
      this.emit('end');
    } catch (err) {
      if (this.stopped()) return;
      this.state = 'stopped';
      const error = err instanceof AudioSourceError ? err
        : new AudioSourceError(`reading ${this.path} failed: ${(err as Error).message}`, this.description, true, { cause: err });
      this.emit('error', error);
    }
  }
}
