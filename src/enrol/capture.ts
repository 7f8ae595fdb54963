/**
 * Takes from a live audio source (the configured microphone, or a file or stdin): the audio source
 * through the voice-activity gate, each speech segment one take, handed out one at a time as the
 * guided prompt asks for them (`gearhear enroll TERM` without --from).
 */
import { concatSamples } from '../audio/pcm.js';
import { AudioFeed, type AudioSource } from '../audio/index.js';
import type { Gate, GateEvent } from '../vad/index.js';

export class TakeCapture {
  private readonly segments: Float32Array[] = [];
  private open: Float32Array[] | null = null;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly feed: AudioFeed;

  constructor(private readonly source: AudioSource, private readonly gate: Gate) {
    this.feed = new AudioFeed(source, async (chunk) => {
      try {
        this.handle(await gate.push(chunk));
      } catch (err) {
        this.fail(err as Error);
      }
    });
    source.on('end', this.onEnd);
    source.on('error', this.onError);
  }

  async start(): Promise<void> {
    await this.source.start();
  }

  /** The next speech segment's audio; null when the source ended or nothing came within `timeoutMs`. */
  async next(timeoutMs: number): Promise<Float32Array | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.segments.length === 0 && !this.ended && !this.failure && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = null;
    }
    if (this.failure) throw this.failure;
    return this.segments.shift() ?? null;
  }

  /** The source has no more audio (a file or stdin ended; a microphone never does). */
  get sourceEnded(): boolean {
    return this.ended;
  }

  /**
   * Drops what a live source (one that cannot pause: a microphone) was heard saying so far: speech
   * before the prompt is not a take. A file or stdin holds the takes in order, so nothing is dropped.
   */
  discardIfLive(): void {
    if (typeof this.source.pause !== 'function') this.segments.length = 0;
  }

  async stop(): Promise<void> {
    this.feed.detach();
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onError);
    await this.source.stop();
  }

  private handle(events: GateEvent[]): void {
    for (const e of events) {
      if (e.type === 'start') this.open = [];
      else if (e.type === 'audio') this.open?.push(e.samples);
      else if (this.open) {
        this.segments.push(concatSamples(this.open));
        this.open = null;
      }
    }
    if (this.segments.length > 0) this.wake?.();
  }

  private fail(err: Error): void {
    this.failure = err;
    this.wake?.();
  }

  private readonly onError = (err: Error & { fatal?: boolean }): void => {
    if (err.fatal !== false) this.fail(err);
  };

  private readonly onEnd = (): void => {
    void this.feed.idle().then(async () => {
      this.handle(await this.gate.flush());
      this.ended = true;
      this.wake?.();
    }, (err: Error) => this.fail(err));
  };
}
