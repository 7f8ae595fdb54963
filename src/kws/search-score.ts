import type { FrameLogProbs } from '../model/types.js';

/** The best placement of one pronunciation inside a span of frames. */
export interface SpanScore {
  /** min(1, exp(logRatio / phones + boost)): the same confidence the keyword search reports. */
  confidence: number;
  /** Sum over the placement's frames of log p(path token) - max log p (<= 0). */
  logRatio: number;
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
  // Per phone i: phone state (pl/ps) and blank-after state (bl/bs), as log ratio + start row.
  let pl = new Float64Array(n).fill(-Infinity), ps = new Int32Array(n);
  let bl = new Float64Array(n).fill(-Infinity), bs = new Int32Array(n);
  let npl = new Float64Array(n), nps = new Int32Array(n), nbl = new Float64Array(n), nbs = new Int32Array(n);
  let best: SpanScore | null = null;
  for (let t = from; t < to; t++) {
    const row = t * stride;
    let max = -Infinity;
    for (let k = 0; k < stride; k++) if (frames.data[row + k] > max) max = frames.data[row + k];
    const blank = frames.data[row + blankIndex] - max;
    for (let i = 0; i < n; i++) {
      // Into phone i: stay, start fresh (i = 0), or come from phone i-1 (directly unless the same phone) or its blank.
      let l = pl[i], s = ps[i];
      if (i === 0) {
        if (0 > l) { l = 0; s = t; }
      } else {
        if (ids[i] !== ids[i - 1] && pl[i - 1] > l) { l = pl[i - 1]; s = ps[i - 1]; }
        if (bl[i - 1] > l) { l = bl[i - 1]; s = bs[i - 1]; }
      }
      npl[i] = l + frames.data[row + ids[i]] - max;
      nps[i] = s;
      const fromPhone = pl[i] >= bl[i];
      nbl[i] = (fromPhone ? pl[i] : bl[i]) + blank;
      nbs[i] = fromPhone ? ps[i] : bs[i];
    }
    if (npl[n - 1] > -Infinity && (best === null || npl[n - 1] > best.logRatio)) {
      best = { confidence: 0, logRatio: npl[n - 1], startFrame: nps[n - 1], endFrame: t };
    }
    [pl, npl] = [npl, pl];
    [ps, nps] = [nps, ps];
    [bl, nbl] = [nbl, bl];
    [bs, nbs] = [nbs, bs];
  }
  if (best) best.confidence = Math.min(1, Math.exp(best.logRatio / n + (options.boost ?? 0)));
  return best;
}
