/** One evaluation condition: a stream through the model once, scored as configured and at each swept threshold. */
import type { KeywordSpec } from '../../src/kws/types.js';
import type { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { round } from '../lib/common.js';
import { scoreDetections, type Score } from '../lib/scoring.js';
import { computePosteriors, searchPosteriors } from './posteriors.js';
import type { EvalStream } from './streams.js';

export interface ConditionResult {
  name: string;
  audioSec: number;
  /** Audio the voice-activity gate passed to the model. */
  speechSec: number;
  clips: number;
  /** Each term at its own threshold (vocabulary attribute, else the default). */
  configured: Score;
  sweep: Array<{ threshold: number; recall: number; falseAlarmsPerHour: number; hits: number; falseAlarms: number }>;
}

export async function evaluateStream(
  name: string, stream: EvalStream, model: OnnxAcousticModel, specs: readonly KeywordSpec[], thresholds: readonly number[],
): Promise<ConditionResult> {
  const post = await computePosteriors(stream.pcm, model);
  const score = (threshold?: number): Score => scoreDetections(searchPosteriors(post, model, specs, threshold), stream.spans, post.audioSec);
  return {
    name, audioSec: round(post.audioSec, 1), speechSec: round(post.speechSec, 1), clips: stream.spans.length, configured: score(),
    sweep: thresholds.map((threshold) => {
      const s = score(threshold);
      return { threshold, recall: round(s.recall, 4), falseAlarmsPerHour: round(s.falseAlarmsPerHour, 1), hits: s.hits, falseAlarms: s.falseAlarms };
    }),
  };
}

/** `0.3..0.8` (steps of 0.1), `0.4,0.5,0.6`, or a single number. */
export function parseThresholds(spec: string | undefined): number[] {
  if (!spec) return [];
  const range = /^([\d.]+)\.\.([\d.]+)(?::([\d.]+))?$/.exec(spec);
  const list = range
    ? Array.from({ length: Math.floor((Number(range[2]) - Number(range[1])) / Number(range[3] ?? 0.1) + 1e-9) + 1 }, (_, i) => round(Number(range[1]) + i * Number(range[3] ?? 0.1), 4))
    : spec.split(',').map(Number);
  if (list.length === 0 || list.some((t) => !(t >= 0 && t <= 1))) throw new Error(`--threshold "${spec}": use thresholds in [0,1], e.g. 0.3..0.8 or 0.4,0.5`);
  return list;
}
