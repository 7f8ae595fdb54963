/**
 * AudioFeed: a source connected to the listening path with a bound on the audio waiting in
 * between (issue 11, item 6). Without it a source delivers as fast as it reads: 34 minutes piped
 * fast into stdin peaked at 354 MB, six hours ran out of memory.
 *
 * - A source that can wait (file, stdin: it has pause()) is paused once `pauseAboveSec` of audio
 *   is waiting and resumed when the backlog has fallen to `resumeBelowSec`. Nothing is lost; the
 *   writer of a pipe blocks.
 * - A microphone cannot wait. Beyond `maxQueueSec` of backlog its chunks are dropped, counted
 *   (stats(): droppedChunks, droppedSec; the daemon reports them in health) and logged once per
 *   episode, rather than piling up until the memory budget ends the daemon.
 */
import { SAMPLE_RATE, type AudioChunk, type AudioSource } from './types.js';
import { silentLogger, type Logger } from '../log.js';

export const FEED_DEFAULTS = {
  /** Pausable sources: pause at this much waiting audio... */
  pauseAboveSec: 4,
  /** ...and resume once the backlog is down to this. */
  resumeBelowSec: 1,
  /** Sources that cannot pause: at most this much audio waits; newer chunks are dropped. */
  maxQueueSec: 30,
} as const;

export interface AudioFeedOptions {
  pauseAboveSec?: number;
  resumeBelowSec?: number;
  maxQueueSec?: number;
  logger?: Logger;
}

/** The listening path's intake: resolves once the chunk is handled (Listener.push). Must not reject. */
export type AudioSink = (chunk: AudioChunk) => Promise<void>;

export interface AudioFeedStats {
  /** Audio handed to the sink and not yet handled, in seconds. */
  backlogSec: number;
  /** The largest backlog seen. */
  peakBacklogSec: number;
  /** Times the source was paused. */
  pauses: number;
  droppedChunks: number;
  droppedSec: number;
}

export class AudioFeed {
  private readonly pauseAbove: number;
  private readonly resumeBelow: number;
  private readonly maxQueue: number;
  private readonly log: Logger;
  private readonly canPause: boolean;
  private backlog = 0;
  private peakBacklog = 0;
  private paused = false;
  private pauses = 0;
  private droppedChunks = 0;
  private droppedSamples = 0;
  private dropping = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly source: AudioSource, private readonly sink: AudioSink, options: AudioFeedOptions = {}) {
    this.pauseAbove = (options.pauseAboveSec ?? FEED_DEFAULTS.pauseAboveSec) * SAMPLE_RATE;
    this.resumeBelow = (options.resumeBelowSec ?? FEED_DEFAULTS.resumeBelowSec) * SAMPLE_RATE;
    this.maxQueue = (options.maxQueueSec ?? FEED_DEFAULTS.maxQueueSec) * SAMPLE_RATE;
    this.log = options.logger ?? silentLogger;
    this.canPause = typeof source.pause === 'function' && typeof source.resume === 'function';
    source.on('data', this.onData);
  }

  /** Stops taking chunks from the source (the listener this feed added is removed). */
  detach(): void {
    this.source.off('data', this.onData);
  }

  stats(): AudioFeedStats {
    const sec = (samples: number): number => Math.round((samples / SAMPLE_RATE) * 1000) / 1000;
    return {
      backlogSec: sec(this.backlog), peakBacklogSec: sec(this.peakBacklog), pauses: this.pauses,
      droppedChunks: this.droppedChunks, droppedSec: sec(this.droppedSamples),
    };
  }

  /** Resolves when every chunk handed to the sink has been handled. */
  idle(): Promise<void> {
    if (this.backlog === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private readonly onData = (chunk: AudioChunk): void => {
    const n = chunk.samples.length;
    if (!this.canPause && this.backlog + n > this.maxQueue) {
      this.drop(n);
      return;
    }
    this.backlog += n;
    this.peakBacklog = Math.max(this.peakBacklog, this.backlog);
    if (this.canPause && !this.paused && this.backlog >= this.pauseAbove) {
      this.paused = true;
      this.pauses++;
      this.source.pause!();
    }
    const handled = (): void => this.handled(n);
    this.sink(chunk).then(handled, handled);
  };

  private handled(n: number): void {
    this.backlog -= n;
    if (this.paused && this.backlog <= this.resumeBelow) {
      this.paused = false;
      this.source.resume!();
    }
    if (this.dropping && this.backlog <= this.maxQueue / 2) {
      this.dropping = false;
      this.log.info('audio flows again', { source: this.source.description, droppedChunks: this.droppedChunks, droppedSec: this.stats().droppedSec });
    }
    if (this.backlog === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private drop(n: number): void {
    this.droppedChunks++;
    this.droppedSamples += n;
    if (this.dropping) return;
    this.dropping = true;
    this.log.warn('listening path is behind: dropping audio', {
      source: this.source.description, backlogSec: this.stats().backlogSec, maxQueueSec: this.maxQueue / SAMPLE_RATE,
    });
  }
}
