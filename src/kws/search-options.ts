/**
 * Options of the keyword search and its confidence formula (shared by the streaming search and
 * `scoreKeywordOnSpan`, so both report the same number).
 *
 * Confidence. For every frame t let r_t(k) = log p_t(k) - max_j log p_t(j) (<= 0; 0 for the frame's
 * best token). A keyword path (its phones, blanks allowed between them, identical consecutive phones
 * separated by a blank as CTC requires) has L = sum of r_t(path token at t) over its span: the log
 * ratio of the keyword path to the best unconstrained path over the same frames. Let P be the
 * geometric mean over the N phones of each phone's peak posterior (its best frame on the path). Then
 *
 *   match      = exp(L / N + boost)                      per-phone geometric mean of path/best ratio, x e^boost
 *   certainty  = min(1, P / minPhonePosterior)           1 unless the model is unsure of the phones
 *   confidence = min(1, match) * certainty
 *
 * It is 1.0 when the keyword path is the best path and the model is sure of its phones, and falls as
 * the path diverges. Normalising by phones, not frames, keeps it independent of speaking rate and of
 * how many blank frames a peaky model puts inside a word: one wrong phone costs a 5-phone term the
 * same at any speed. `certainty` stops a flat, unsure posterior (noise, mumbling) from scoring 1.0
 * just because nothing else is better. Short terms match babble more easily: pronunciations under
 * `minPhones` are refused and those under `shortTermPhones` get a stricter threshold.
 */
export interface KeywordSearchOptions {
  /** The same term is not reported again if it starts less than this many seconds after its last end. */
  refractorySec: number;
  /** Paths longer than this are dropped (bounds latency and work). */
  maxKeywordSec: number;
  /** Frames after the term's last phone stopped being the best continuation before it is reported. */
  minTrailingFrames: number;
  /** Pronunciations with fewer phones are refused. */
  minPhones: number;
  /** Pronunciations with fewer phones than this get a stricter threshold... */
  shortTermPhones: number;
  /** ...raised by this much per missing phone (at most 0.99). */
  shortTermThresholdRaise: number;
  /** Phones whose peak posteriors average (geometrically) below this lower the confidence; 0 turns it off. */
  minPhonePosterior: number;
}

export const KEYWORD_SEARCH_DEFAULTS: Readonly<KeywordSearchOptions> = {
  refractorySec: 1.0,
  maxKeywordSec: 3.0,
  minTrailingFrames: 3,
  minPhones: 2,
  shortTermPhones: 4,
  shortTermThresholdRaise: 0.05,
  minPhonePosterior: 0.3,
};

/**
 * The confidence formula above. `logRatio` = L, `logPeakSum` = sum over phones of log peak posterior.
 * An upper bound is exp(logRatio / phones + boost), which the search's pruning relies on.
 */
export function keywordConfidence(logRatio: number, logPeakSum: number, phones: number, boost: number, minPhonePosterior: number): number {
  const match = Math.min(1, Math.exp(logRatio / phones + boost));
  if (!(minPhonePosterior > 0)) return match;
  const certainty = Math.min(1, Math.exp(logPeakSum / phones) / minPhonePosterior);
  return match * certainty;
}
