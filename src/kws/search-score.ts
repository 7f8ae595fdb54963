import type { FrameLogProbs } from '../model/types.js';
import { KEYWORD_SEARCH_DEFAULTS, keywordConfidence } from './search-options.js';

/** The best placement of one pronunciation inside a span of frames. */
export interface SpanScore {
  /** The same confidence the keyword search reports (formula: search-options.ts). */
  confidence: number;
  /** Sum over the placement's frames of log p(path token) - max log p (<= 0). */
  logRatio: number;
  /** Geometric mean over the phones of each phone's peak posterior on the path. */
  phonePosterior: number;
  /** Rows of `frames` (0-based) of the first and last frame of the placement. */
  startFrame: number;
  endFrame: number;
}

export interface SpanScoreOptions {
  /** First row to consider (default 0). */
  fromFrame?: number;
  /** Row after the last to consider (default frames.frames). */
  toFrame?: number;
  /** Log bonus per phone, as a keyword's boost (default 0). */
  boost?: number;
  /** As the search option of that name (default KEYWORD_SEARCH_DEFAULTS.minPhonePosterior). */
  minPhonePosterior?: number;
}

/**
 * Scores a pronunciation against a block of frames without streaming, thresholds or pruning: the
 * best CTC path of `phones` starting and ending anywhere inside the span. For evaluation and
 * debugging (why did / didn't a term fire here?). Returns null when the span is too short.
 */
export function scoreKeywordOnSpan(
  frames: FrameLogProbs,
  tokens: readonly string[],
  blankIndex: number,
  phones: readonly string[],
  options: SpanScoreOptions = {},
): SpanScore | null {
  const from = options.fromFrame ?? 0;
  const to = options.toFrame ?? frames.frames;
  if (from < 0 || to > frames.frames || from > to) throw new Error(`scoreKeywordOnSpan: span [${from}, ${to}) is outside the ${frames.frames} frames`);
  if (phones.length === 0) throw new Error('scoreKeywordOnSpan: empty pronunciation');
  const ids = phones.map((p) => {
    const id = tokens.indexOf(p);
    if (id < 0) throw new Error(`scoreKeywordOnSpan: phone "${p}" is not one of the model's tokens`);
    return id;
  });
  const n = ids.length;
  const stride = frames.tokens;
  // Per phone i: phone state and blank-after state: log ratio, start row, summed log peaks of finished phones.
  const fresh = (): Phase => ({ score: new Float64Array(n).fill(-Infinity), start: new Int32Array(n), done: new Float64Array(n), peak: new Float64Array(n) });
  let phone = fresh(), blank = fresh(), nextPhone = fresh(), nextBlank = fresh();
  const minPhonePosterior = options.minPhonePosterior ?? KEYWORD_SEARCH_DEFAULTS.minPhonePosterior;
  const boost = options.boost ?? 0;
  let best: SpanScore | null = null;
  for (let t = from; t < to; t++) {
    const row = t * stride;
    let max = -Infinity;
    for (let k = 0; k < stride; k++) if (frames.data[row + k] > max) max = frames.data[row + k];
    const blankRatio = frames.data[row + blankIndex] - max;
    for (let i = 0; i < n; i++) {
      // Into phone i: stay, start fresh (i = 0), or come from phone i-1 (directly unless the same phone) or its blank.
      let score = phone.score[i], start = phone.start[i], done = phone.done[i], peak = phone.peak[i];
      const prevPhone = i > 0 && ids[i] !== ids[i - 1] ? phone.score[i - 1] : -Infinity;
      const prevBlank = i > 0 ? blank.score[i - 1] : -Infinity;
      // Same preference as the search: higher score, then the earlier start.
      if (i === 0 && better(0, t, score, start)) { score = 0; start = t; done = 0; peak = -Infinity; }
      if (better(prevPhone, phone.start[i - 1], score, start)) { score = prevPhone; start = phone.start[i - 1]; done = phone.done[i - 1] + phone.peak[i - 1]; peak = -Infinity; }
      if (better(prevBlank, blank.start[i - 1], score, start)) { score = prevBlank; start = blank.start[i - 1]; done = blank.done[i - 1]; peak = -Infinity; }
      const logp = frames.data[row + ids[i]];
      nextPhone.score[i] = score + logp - max;
      nextPhone.start[i] = start;
      nextPhone.done[i] = done;
      nextPhone.peak[i] = Math.max(peak, logp);
      const fromPhone = !better(blank.score[i], blank.start[i], phone.score[i], phone.start[i]);
      nextBlank.score[i] = (fromPhone ? phone.score[i] : blank.score[i]) + blankRatio;
      nextBlank.start[i] = fromPhone ? phone.start[i] : blank.start[i];
      nextBlank.done[i] = fromPhone ? phone.done[i] + phone.peak[i] : blank.done[i];
    }
    const last = nextPhone.score[n - 1];
    if (last > -Infinity) {
      // Like the search, keep the most confident ending; an equal one later extends it.
      const logPeakSum = nextPhone.done[n - 1] + nextPhone.peak[n - 1];
      const confidence = keywordConfidence(last, logPeakSum, n, boost, minPhonePosterior);
      if (best === null || confidence >= best.confidence) {
        best = { confidence, logRatio: last, phonePosterior: Math.exp(logPeakSum / n), startFrame: nextPhone.start[n - 1], endFrame: t };
      }
    }
    [phone, nextPhone] = [nextPhone, phone];
    [blank, nextBlank] = [nextBlank, blank];
  }
  return best;
}

function better(score: number, start: number, thanScore: number, thanStart: number): boolean {
  return score > thanScore || (score === thanScore && score > -Infinity && start < thanStart);
}

interface Phase {
  score: Float64Array;
  start: Int32Array;
  done: Float64Array;
  peak: Float64Array;
}
