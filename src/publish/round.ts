/**
 * One rounding rule for every number a detection carries, shared by the MQTT `detection` payload and
 * `gearhear detect --json`, so the two never disagree (and no payload shows `31.380000000000003`).
 */

/** Decimal places kept for times (seconds: milliseconds), scores and levels. */
export const PAYLOAD_DIGITS = 3;

/** Rounds half away from zero to `digits` places; non-finite values pass through for the caller to handle. */
export function roundForPayload(x: number, digits = PAYLOAD_DIGITS): number {
  if (!Number.isFinite(x)) return x;
  const scale = 10 ** digits;
  const r = Math.sign(x) * Math.round(Math.abs(x) * scale + Number.EPSILON * scale) / scale;
  return Object.is(r, -0) ? 0 : r;
}

export interface DetectionFigures {
  start: number;
  end: number;
  confidence: number;
  threshold: number;
  levelDbfs: number;
}

/** The figures of a detection as they are published: every one through roundForPayload. */
export function roundDetectionFigures(d: DetectionFigures): DetectionFigures {
  return {
    start: roundForPayload(d.start), end: roundForPayload(d.end), confidence: roundForPayload(d.confidence),
    threshold: roundForPayload(d.threshold), levelDbfs: roundForPayload(d.levelDbfs),
  };
}
