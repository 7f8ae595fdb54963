import { concatSamples } from '../audio/pcm.js';
import type { GateEvent } from './types.js';

export interface SegmenterOptions {
  /** A segment opens on a frame whose speech probability is >= threshold. */
  threshold: number;
  /** Inside a segment, frames below this count as non-speech (hysteresis; <= threshold). */
  releaseThreshold: number;
  /** Audio from before the first speech frame included at the start of a segment. */
  preRollSamples: number;
  /** Non-speech needed to close a segment. */
  hangoverSamples: number;
  /** Speech (frames >= releaseThreshold, pre-roll excluded) needed before 'start' is reported. */
  minSpeechSamples: number;
  /** Longest segment; longer speech is split (reason 'max-length') and continues in a new one. */
  maxSegmentSamples: number;
  /** Makes a fresh segment id. */
  newSegmentId: (startSample: number) => string;
}

/** A candidate segment whose speech has not yet reached minSpeechSamples: held back, not reported. */
interface Pending {
  kind: 'pending';
  startSample: number;
  parts: Float32Array[];
  /** Samples buffered from the first speech frame on (pre-roll excluded). */
  sinceOnset: number;
  speechSamples: number;
  quietSamples: number;
}

interface Active {
  kind: 'active';
  segmentId: string;
  startSample: number;
  /** Sample index after the last audio emitted for this segment. */
  emittedEnd: number;
  quietSamples: number;
}

type State = { kind: 'idle' } | Pending | Active;

/**
 * Turns per-frame speech probabilities into segments. Frames must arrive contiguously.
 * 'start' is held back until the segment has minSpeechSamples of speech; then 'start'
 * and the pre-roll plus buffered audio are emitted in one go, and later frames stream
 * through as they arrive. No sample is emitted twice, and a segment's audio has no gaps.
 */
export class Segmenter {
  private state: State = { kind: 'idle' };
  private readonly preRoll: RecentAudio;
  /** End of the last closed segment: pre-roll never reaches back before it. */
  private lastSegmentEnd = -Infinity;
  private segmentsStarted = 0;
  private samplesEmitted = 0;

  constructor(private readonly options: SegmenterOptions) {
    this.preRoll = new RecentAudio(options.preRollSamples);
  }

  pushFrame(frame: Float32Array, offset: number, probability: number): GateEvent[] {
    const events: GateEvent[] = [];
    const state = this.state;
    if (state.kind === 'idle') {
      if (probability >= this.options.threshold) this.open(frame, offset, events);
    } else if (state.kind === 'pending') {
      this.continuePending(state, frame, probability, events);
    } else {
      this.continueActive(state, frame, offset, probability, events);
    }
    this.preRoll.push(frame, offset);
    return events;
  }

  /** End of input: emit `tail` (the unframed remainder) into an open segment and close it. */
  flush(tail: Float32Array): GateEvent[] {
    const events: GateEvent[] = [];
    const state = this.state;
    if (state.kind === 'active') {
      if (tail.length > 0) this.emitAudio(state, tail, events);
      this.close(state, 'flush', events);
    }
    this.state = { kind: 'idle' };
    this.preRoll.clear(); // nothing left to re-emit, so pre-roll may start anywhere afterwards
    this.lastSegmentEnd = -Infinity;
    return events;
  }

  stats(): { segments: number; samplesGated: number } {
    return { segments: this.segmentsStarted, samplesGated: this.samplesEmitted };
  }

  /** Open a pending segment on a speech frame, with the pre-roll before it. */
  private open(frame: Float32Array, offset: number, events: GateEvent[]): void {
    const preRoll = this.preRoll.since(Math.max(this.lastSegmentEnd, offset - this.options.preRollSamples));
    const pending: Pending = {
      kind: 'pending',
      startSample: offset - preRoll.length,
      parts: preRoll.length > 0 ? [preRoll, frame] : [frame],
      sinceOnset: frame.length,
      speechSamples: frame.length,
      quietSamples: 0,
    };
    this.state = pending;
    this.promoteIfLongEnough(pending, events);
  }

  private continuePending(state: Pending, frame: Float32Array, probability: number, events: GateEvent[]): void {
    const { releaseThreshold, hangoverSamples, maxSegmentSamples } = this.options;
    if (state.sinceOnset + frame.length > maxSegmentSamples) {
      this.state = { kind: 'idle' }; // sparse blips that never add up to minSpeech within a segment
      return;
    }
    state.parts.push(frame);
    state.sinceOnset += frame.length;
    if (probability >= releaseThreshold) {
      state.speechSamples += frame.length;
      state.quietSamples = 0;
    } else {
      state.quietSamples += frame.length;
      if (state.quietSamples >= hangoverSamples) {
        this.state = { kind: 'idle' }; // too short: a blip, dropped
        return;
      }
    }
    this.promoteIfLongEnough(state, events);
  }

  private promoteIfLongEnough(state: Pending, events: GateEvent[]): void {
    if (state.speechSamples < this.options.minSpeechSamples) return;
    let audio = concatSamples(state.parts);
    let startSample = state.startSample;
    const excess = audio.length - this.options.maxSegmentSamples;
    if (excess > 0) {
      audio = audio.subarray(excess); // only pre-roll can be trimmed: onset audio is <= max
      startSample += excess;
    }
    const active: Active = {
      kind: 'active',
      segmentId: this.options.newSegmentId(startSample),
      startSample,
      emittedEnd: startSample,
      quietSamples: state.quietSamples,
    };
    this.segmentsStarted++;
    events.push({ type: 'start', segmentId: active.segmentId, startSample });
    this.emitAudio(active, audio, events);
    this.state = active;
  }

  private continueActive(state: Active, frame: Float32Array, offset: number, probability: number, events: GateEvent[]): void {
    const { releaseThreshold, hangoverSamples, maxSegmentSamples } = this.options;
    const speech = probability >= releaseThreshold;
    if (state.emittedEnd - state.startSample + frame.length > maxSegmentSamples) {
      this.close(state, 'max-length', events);
      if (speech) this.open(frame, offset, events); // speech goes on: a new segment
      return;
    }
    this.emitAudio(state, frame, events);
    state.quietSamples = speech ? 0 : state.quietSamples + frame.length;
    if (state.quietSamples >= hangoverSamples) this.close(state, 'silence', events);
  }

  private emitAudio(state: Active, samples: Float32Array, events: GateEvent[]): void {
    events.push({ type: 'audio', segmentId: state.segmentId, samples, offset: state.emittedEnd });
    state.emittedEnd += samples.length;
    this.samplesEmitted += samples.length;
  }

  private close(state: Active, reason: 'silence' | 'max-length' | 'flush', events: GateEvent[]): void {
    events.push({ type: 'end', segmentId: state.segmentId, endSample: state.emittedEnd, reason });
    this.lastSegmentEnd = state.emittedEnd;
    this.state = { kind: 'idle' };
  }
}

/** Ring buffer of the most recent samples (the pre-roll). */
class RecentAudio {
  private readonly ring: Float32Array;
  private writeIndex = 0;
  private stored = 0;
  private endSample = 0;

  constructor(capacity: number) {
    this.ring = new Float32Array(capacity);
  }

  push(samples: Float32Array, offset: number): void {
    const capacity = this.ring.length;
    if (capacity === 0) return;
    const tail = samples.length > capacity ? samples.subarray(samples.length - capacity) : samples;
    const firstPart = Math.min(tail.length, capacity - this.writeIndex);
    this.ring.set(tail.subarray(0, firstPart), this.writeIndex);
    this.ring.set(tail.subarray(firstPart), 0);
    this.writeIndex = (this.writeIndex + tail.length) % capacity;
    this.stored = Math.min(capacity, this.stored + tail.length);
    this.endSample = offset + samples.length;
  }

  /** A copy of the stored samples from sample index `from` (clamped) to the newest. */
  since(from: number): Float32Array {
    const count = Math.max(0, Math.min(this.stored, this.endSample - from));
    const out = new Float32Array(count);
    if (count === 0) return out;
    const capacity = this.ring.length;
    const begin = (this.writeIndex - count + capacity) % capacity;
    const firstPart = Math.min(count, capacity - begin);
    out.set(this.ring.subarray(begin, begin + firstPart), 0);
    out.set(this.ring.subarray(0, count - firstPart), firstPart);
    return out;
  }

  clear(): void {
    this.writeIndex = 0;
    this.stored = 0;
  }
}
