/**
 * Evidence clips of detections: keeps the last seconds of the raw audio stream, and for each
 * detection writes `preRoll` before the term's start to `postRoll` after its end as a WAV in the
 * evidence store. A detection is reported as soon as its term ends, before the post-roll has been
 * heard, so its clip waits for that audio (or for the end of input).
 */
import { randomBytes } from 'node:crypto';
import { SAMPLE_RATE, type AudioChunk } from '../audio/types.js';
import type { Logger } from '../log.js';
import { roundForPayload } from '../publish/round.js';
import { AudioRing } from './ring.js';
import type { EvidenceWriter, NewClip } from './writer.js';

export interface ClipRecorderOptions {
  writer: EvidenceWriter;
  preRollMs: number;
  postRollMs: number;
  /** How far back a detection's start can lie when it is reported (the longest speech segment plus margins). */
  historyMs: number;
  logger: Logger;
}

/** What the daemon knows of a detection when it is heard. */
export interface ClipSubject {
  detectionId: string;
  timestamp: Date;
  deviceId: string;
  term: string;
  category: string;
  severity: string;
  confidence: number;
  threshold: number;
  /** Seconds of the audio stream. */
  start: number;
  end: number;
  model: { id: string; version: string };
  vocabularyVersion: string;
}

interface PendingClip { subject: ClipSubject; clipId: string; from: number; to: number; done: () => void }

/** `<YYYYMMDDTHHMMSSmmmZ>-<8 hex>`: sortable by the time the term was heard. */
export function newClipId(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

export class ClipRecorder {
  private readonly ring: AudioRing;
  private pending: PendingClip[] = [];
  private readonly writes = new Set<Promise<unknown>>();
  /** Clips reserved but not yet on disk, by detection id and clip id. */
  private readonly unfinished = new Map<string, Promise<void>>();

  constructor(private readonly opts: ClipRecorderOptions) {
    this.ring = new AudioRing(Math.ceil(((opts.historyMs + opts.preRollMs + opts.postRollMs) / 1000) * SAMPLE_RATE));
  }

  /** Every chunk of the stream, in order, before the voice gate. */
  audio(chunk: AudioChunk): void {
    this.ring.push(chunk);
    if (this.pending.length === 0) return;
    const ready = this.pending.filter((p) => p.to <= this.ring.end);
    if (ready.length === 0) return;
    this.pending = this.pending.filter((p) => p.to > this.ring.end);
    for (const p of ready) this.write(p);
  }

  /** Reserves the clip of a detection and returns its id; the clip is written once its post-roll is heard. */
  capture(subject: ClipSubject): string {
    const clipId = newClipId(subject.timestamp);
    const from = Math.round((subject.start - this.opts.preRollMs / 1000) * SAMPLE_RATE); // below 0 near the stream start: truncated
    const to = Math.round((subject.end + this.opts.postRollMs / 1000) * SAMPLE_RATE);
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    this.unfinished.set(clipId, finished).set(subject.detectionId, finished);
    void finished.then(() => { this.unfinished.delete(clipId); this.unfinished.delete(subject.detectionId); });
    const p = { subject, clipId, from, to, done };
    if (to <= this.ring.end) this.write(p);
    else this.pending.push(p);
    return clipId;
  }

  /** Resolves once the clip of this detection or clip id is written (or failed); at once when none is under way. */
  async settled(id: string): Promise<void> {
    if (id === 'last') await Promise.all([...this.unfinished.values()]);
    else await this.unfinished.get(id);
  }

  /** End of input or shutdown: writes waiting clips with the audio there is, and waits for every write. */
  async flush(): Promise<void> {
    const waiting = this.pending;
    this.pending = [];
    for (const p of waiting) this.write(p);
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  private write(p: PendingClip): void {
    const { from, samples } = this.ring.slice(p.from, p.to);
    const s = p.subject;
    const clip: NewClip = {
      clipId: p.clipId, detectionId: s.detectionId, deviceId: s.deviceId, timestamp: s.timestamp.toISOString(),
      term: s.term, category: s.category, severity: s.severity, confidence: roundForPayload(s.confidence), threshold: roundForPayload(s.threshold),
      start: roundForPayload(s.start), end: roundForPayload(s.end),
      clipStart: from / SAMPLE_RATE, clipEnd: (from + samples.length) / SAMPLE_RATE, sampleRate: SAMPLE_RATE,
      truncated: from > p.from || from + samples.length < p.to, model: s.model, vocabularyVersion: s.vocabularyVersion,
    };
    if (samples.length === 0) this.opts.logger.warn('evidence: no audio left for a clip', { clipId: p.clipId, term: s.term });
    const w = this.opts.writer.save(clip, samples).catch((err: unknown) => {
      this.opts.logger.error('evidence: clip write failed', { clipId: p.clipId, error: (err as Error).message });
    });
    this.writes.add(w);
    void w.finally(() => { this.writes.delete(w); p.done(); });
  }
}
