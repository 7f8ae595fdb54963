/** `gearhear detect`'s output formats: one line, or one JSON object, per detection. */
import type { HeardDetection } from '../detection.js';
import { roundDetectionFigures } from '../publish/round.js';

/** One JSON object per detection: the `gearhear detect --json` contract (figures rounded as the MQTT payload's). */
export function detectionJson(file: string, d: HeardDetection): string {
  const r = roundDetectionFigures(d);
  return JSON.stringify({
    file, term: d.term, category: d.category, severity: d.severity, start: r.start, end: r.end,
    confidence: r.confidence, threshold: r.threshold, segmentId: d.segmentId, levelDbfs: r.levelDbfs,
  });
}

export function detectionLine(file: string, d: HeardDetection): string {
  const span = `${d.start.toFixed(2)}-${d.end.toFixed(2)}s`;
  return `${file}  ${span.padEnd(14)} ${d.term}  [${d.category}, ${d.severity}]  confidence ${d.confidence.toFixed(2)}`;
}
