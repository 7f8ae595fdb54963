import { randomUUID } from 'node:crypto';
import { roundDetectionFigures } from './round.js';
import type { DetectionMessage, DetectionMessageInput, ErrorMessage, InfoInput } from './types.js';

/** dBFS of digital silence is -Infinity, which JSON cannot carry: clamp to this floor. */
import { LEVEL_FLOOR_DBFS } from '../audio/level.js';
import { redactUrl } from '../redact.js';
const SECRET_KEY = /pass(word|phrase)?|secret|token|private|credential|^key$/i;
export const MASK = '***';

export function buildDetection(d: DetectionMessageInput, seq: number, deviceId: string, siteId: string | undefined): DetectionMessage {
  const figures = roundDetectionFigures({
    start: d.start, end: d.end, confidence: d.confidence, threshold: d.threshold,
    levelDbfs: Number.isFinite(d.levelDbfs) ? Math.max(LEVEL_FLOOR_DBFS, d.levelDbfs) : LEVEL_FLOOR_DBFS,
  });
  const msg: DetectionMessage = {
    id: d.id ?? randomUUID(),
    seq,
    timestamp: (d.timestamp ?? new Date()).toISOString(),
    deviceId,
    term: d.term,
    category: d.category,
    severity: d.severity,
    confidence: figures.confidence,
    threshold: figures.threshold,
    start: figures.start,
    end: figures.end,
    segmentId: d.segmentId,
    model: { id: d.model.id, version: d.model.version },
    vocabularyVersion: d.vocabularyVersion,
    levelDbfs: figures.levelDbfs,
    event_type: d.category,
  };
  if (siteId) msg.siteId = siteId;
  if (d.clipId) msg.clipId = d.clipId;
  return msg;
}

/** Masks values under secret-looking keys and the user-info of URLs (a second line of defence: the daemon masks first). */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === 'string') return value.includes('://') ? redactUrl(value) : value;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== null && v !== '' && typeof v !== 'object' && typeof v !== 'boolean' ? MASK : maskSecrets(v);
  }
  return out;
}

export function buildInfo(info: InfoInput, deviceId: string, siteId: string | undefined): Record<string, unknown> {
  const msg: Record<string, unknown> = { ...info, deviceId, config: maskSecrets(info.config), timestamp: new Date().toISOString() };
  if (siteId) msg.siteId = siteId;
  return msg;
}

/** `about` names the detection concerned, when there is one. */
export function buildError(where: string, err: unknown, deviceId: string, about?: { seq: number; term: string }): ErrorMessage {
  const message = err instanceof Error ? err.message : String(err);
  return { where, message, timestamp: new Date().toISOString(), deviceId, ...(about ? { seq: about.seq, term: about.term } : {}) };
}
