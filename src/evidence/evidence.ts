/**
 * Evidence as the daemon uses it (evidence.enabled): the clip recorder on the raw stream, the store
 * and its bounds, the `clip` and `feedback` requests, and the figures for `health`.
 */
import { randomUUID } from 'node:crypto';
import type { AudioChunk } from '../audio/types.js';
import type { Logger } from '../log.js';
import type { RequestRouter } from '../publish/requests.js';
import { ClipRecorder, type ClipSubject } from './recorder.js';
import { serveEvidenceRequests } from './requests.js';
import type { VerdictCounts } from './store.js';
import { EvidenceWriter, type EvidenceStats } from './writer.js';

export interface EvidenceOptions {
  stateDir: string;
  deviceId: string;
  preRollMs: number;
  postRollMs: number;
  maxClips: number;
  maxBytes: number;
  maxAgeMs: number;
  maxResponseBytes: number;
  /** How late a detection can be reported after its start: the longest speech segment plus the VAD's margins. */
  historyMs: number;
  logger: Logger;
}

/** What goes into `health` (top level, beside `outbox`). */
export interface EvidenceHealth {
  evidence: EvidenceStats;
  feedback: { received: number; terms: VerdictCounts };
}

export class Evidence {
  private received = 0;

  private constructor(private readonly opts: EvidenceOptions, private readonly writer: EvidenceWriter, private readonly recorder: ClipRecorder) {}

  static async open(o: EvidenceOptions): Promise<Evidence> {
    const writer = await EvidenceWriter.open({ stateDir: o.stateDir, limits: { maxClips: o.maxClips, maxBytes: o.maxBytes, maxAgeMs: o.maxAgeMs }, logger: o.logger });
    const recorder = new ClipRecorder({ writer, preRollMs: o.preRollMs, postRollMs: o.postRollMs, historyMs: o.historyMs, logger: o.logger });
    o.logger.info('evidence clips on', { dir: writer.dir, clips: writer.stats().clips, maxClips: o.maxClips, maxBytes: o.maxBytes, maxAgeH: o.maxAgeMs / 3600_000 });
    return new Evidence(o, writer, recorder);
  }

  audio(chunk: AudioChunk): void {
    this.recorder.audio(chunk);
  }

  /** Reserves the clip of a detection: returns the detection id to publish it under, and the clip id. */
  capture(d: Omit<ClipSubject, 'detectionId' | 'deviceId'>): { id: string; clipId: string } {
    const id = randomUUID();
    return { id, clipId: this.recorder.capture({ ...d, detectionId: id, deviceId: this.opts.deviceId }) };
  }

  /** Serves request/clip and request/feedback; `terms`: the running vocabulary's (a wrong-term verdict names one). */
  serve(router: RequestRouter, terms: () => readonly string[]): void {
    serveEvidenceRequests(router, {
      stateDir: this.opts.stateDir, writer: this.writer, recorder: this.recorder, maxResponseBytes: this.opts.maxResponseBytes, terms,
      onVerdict: () => { this.received++; },
    });
  }

  health(): EvidenceHealth {
    return { evidence: this.writer.stats(), feedback: { received: this.received, terms: this.writer.verdictCounts() } };
  }

  /** Writes the clips still waiting for audio, then closes the store. */
  async close(): Promise<void> {
    await this.recorder.flush();
    await this.writer.close();
  }
}
