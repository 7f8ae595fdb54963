import type { AudioChunk } from '../audio/types.js';
import type { Logger } from '../log.js';
import type { Segmenter } from './segmenter.js';
import type { Gate, GateEvent, GateStats } from './types.js';

/** Samples per analysis frame: Silero v5's 16 kHz window (32 ms). The energy gate uses the same frames. */
export const FRAME_SAMPLES = 512;

/** Says how likely a frame is to be speech (0..1). Frames arrive contiguously, in order. */
export interface FrameClassifier {
  classify(frame: Float32Array, offset: number): Promise<number>;
  /** Forget all history (after a gap in the input). */
  reset(): void;
  /** Work counters for stats(), e.g. how many frames reached the model. */
  counters(): Partial<GateStats>;
  dispose(): Promise<void>;
}

/**
 * A Gate built from a frame classifier and a segmenter: cuts the incoming chunks (of any
 * size) into FRAME_SAMPLES frames, classifies each, and lets the segmenter turn the
 * probabilities into start/audio/end events. Calls are serialised, so a caller that does
 * not await push() still gets its events in order.
 */
export class FrameGate implements Gate {
  private frame = new Float32Array(FRAME_SAMPLES);
  private frameFill = 0;
  /** Sample index the next chunk should start at; undefined before the first chunk. */
  private nextOffset: number | undefined;
  private samplesIn = 0;
  private frames = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly classifier: FrameClassifier,
    private readonly segmenter: Segmenter,
    private readonly logger: Logger,
  ) {}

  push(chunk: AudioChunk): Promise<GateEvent[]> {
    return this.serialise(() => this.pushNow(chunk));
  }

  flush(): Promise<GateEvent[]> {
    return this.serialise(async () => coalesceAudio(this.flushNow()));
  }

  stats(): GateStats {
    const { segments, samplesGated } = this.segmenter.stats();
    return { samplesIn: this.samplesIn, samplesGated, segments, frames: this.frames, ...this.classifier.counters() };
  }

  dispose(): Promise<void> {
    return this.serialise(async () => {
      if (this.disposed) return;
      this.disposed = true;
      await this.classifier.dispose();
    });
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async pushNow(chunk: AudioChunk): Promise<GateEvent[]> {
    if (this.disposed) throw new Error('vad gate: push() after dispose()');
    validateChunk(chunk);
    const events: GateEvent[] = [];
    if (this.nextOffset !== undefined && chunk.offset !== this.nextOffset) {
      this.logger.warn('vad: audio offset jumped; closing any open segment and starting afresh', {
        expected: this.nextOffset,
        got: chunk.offset,
      });
      events.push(...this.flushNow());
      this.classifier.reset();
    }
    const { samples } = chunk;
    let frameStart = chunk.offset - this.frameFill;
    let read = 0;
    while (read < samples.length) {
      const take = Math.min(FRAME_SAMPLES - this.frameFill, samples.length - read);
      this.frame.set(samples.subarray(read, read + take), this.frameFill);
      this.frameFill += take;
      read += take;
      if (this.frameFill < FRAME_SAMPLES) break;
      const frame = this.frame;
      this.frame = new Float32Array(FRAME_SAMPLES); // the segmenter keeps `frame`
      this.frameFill = 0;
      this.frames++;
      const probability = await this.classifier.classify(frame, frameStart);
      events.push(...this.segmenter.pushFrame(frame, frameStart, probability));
      frameStart += FRAME_SAMPLES;
    }
    this.nextOffset = chunk.offset + samples.length;
    this.samplesIn += samples.length;
    return coalesceAudio(events);
  }

  /** Close any open segment, passing it the samples not yet framed. */
  private flushNow(): GateEvent[] {
    const tail = this.frame.slice(0, this.frameFill);
    this.frameFill = 0;
    return this.segmenter.flush(tail);
  }
}

function validateChunk(chunk: AudioChunk): void {
  if (!(chunk.samples instanceof Float32Array)) {
    throw new TypeError('vad gate: chunk.samples must be a Float32Array of 16 kHz mono samples');
  }
  if (!Number.isSafeInteger(chunk.offset) || chunk.offset < 0) {
    throw new RangeError(`vad gate: chunk.offset must be a sample index >= 0, got ${String(chunk.offset)}`);
  }
}

/** Merge neighbouring audio events of the same segment, so a push yields few, larger blocks. */
function coalesceAudio(events: GateEvent[]): GateEvent[] {
  const out: GateEvent[] = [];
  let run: Extract<GateEvent, { type: 'audio' }>[] = [];
  const endRun = (): void => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) {
      const samples = new Float32Array(run.reduce((n, e) => n + e.samples.length, 0));
      let at = 0;
      for (const e of run) {
        samples.set(e.samples, at);
        at += e.samples.length;
      }
      out.push({ type: 'audio', segmentId: run[0]!.segmentId, samples, offset: run[0]!.offset });
    }
    run = [];
  };
  for (const event of events) {
    if (event.type === 'audio' && (run.length === 0 || run[0]!.segmentId === event.segmentId)) run.push(event);
    else {
      endRun();
      if (event.type === 'audio') run.push(event);
      else out.push(event);
    }
  }
  endRun();
  return out;
}
