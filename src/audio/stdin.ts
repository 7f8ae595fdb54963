/** StdinSource: raw signed 16-bit little-endian, 16 kHz, mono PCM from a byte stream (process.stdin by default). */
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { AudioSourceError, type AudioSource, type AudioSourceEvents } from './types.js';
import { S16leDecoder } from './pcm.js';

export interface StdinSourceOptions {
  /** The byte stream to read; defaults to process.stdin. Not destroyed by stop(), only released. */
  stream?: Readable;
}

/**
 * Emits one 'data' event per chunk the stream delivers (an odd trailing byte waits for the next one),
 * 'end' at EOF, and a fatal 'error' if the stream fails.
 */
export class StdinSource extends EventEmitter<AudioSourceEvents> implements AudioSource {
  readonly description = 'stdin';
  private readonly stream: Readable;
  private readonly decoder = new S16leDecoder();
  private offset = 0;
  private state: 'idle' | 'running' | 'stopped' = 'idle';

  constructor(options: StdinSourceOptions = {}) {
    super();
    this.stream = options.stream ?? process.stdin;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') throw new AudioSourceError('stdin source cannot be started again (a source starts once)', this.description, true);
    this.state = 'running';
    this.stream.on('data', this.onData);
    this.stream.once('end', this.onEnd);
    this.stream.once('error', this.onError);
    // A previous source's stop() paused the stream (an in-process restart): flow again.
    this.stream.resume();
    this.emit('status', { state: 'running' });
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.release();
    if (wasRunning) this.stream.pause();
    this.emit('status', { state: 'stopped' });
  }

  /** Stops reading: the pipe fills and its writer blocks (backpressure, see AudioFeed). */
  pause(): void {
    if (this.state === 'running') this.stream.pause();
  }

  resume(): void {
    if (this.state === 'running') this.stream.resume();
  }

  private release(): void {
    this.state = 'stopped';
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('error', this.onError);
  }

  private readonly onData = (chunk: Buffer | string): void => {
    if (typeof chunk === 'string') {
      this.fail(new AudioSourceError('stdin delivered text; it must be a byte stream (do not set an encoding on it)', this.description, true));
      return;
    }
    const samples = this.decoder.push(chunk);
    if (samples.length === 0) return;
    const offset = this.offset;
    this.offset += samples.length;
    this.emit('data', { samples, offset });
  };

  private readonly onEnd = (): void => {
    this.release(); // a dangling odd byte at EOF is half a sample and is dropped
    this.emit('end');
  };

  private readonly onError = (err: Error): void => {
    this.fail(new AudioSourceError(`reading raw PCM from stdin failed: ${err.message}`, this.description, true, { cause: err }));
  };

  private fail(error: AudioSourceError): void {
    this.release();
    this.emit('error', error);
  }
}
