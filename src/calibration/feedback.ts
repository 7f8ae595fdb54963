/**
 * `gearhear calibrate --from-feedback`: operators' verdicts on detections raise the thresholds of
 * terms marked false, from the scores of their clips, and never lower any below the site calibration.
 *
 * How each verdict on a detection of term T counts:
 * - `false`: a false alarm of T. T is raised just above its score in the clip.
 * - `wrong-term X` (X was said, not T): also a false alarm of T, raised the same way, but counted
 *   apart (`wrongTermVerdicts`). For X the clip is a positive, like a `true` verdict on a detection
 *   of X: it never raises X, and when X's threshold is above X's score in the clip it is counted
 *   among the detections that would be missed. X must be another term of the vocabulary.
 * - `true`: a positive of T: never raises it; counted when the new threshold is above its score.
 *
 * The verdict store (evidence clips and feedback) is another module's; this one needs only a
 * FeedbackSource: a list of {term, verdict, score and/or clip}. `jsonlFeedbackSource` reads one
 * JSON object per line, which is also what `gearhear clips export` style tools can produce.
 */
import { readFile } from 'node:fs/promises';
import type { Calibration } from './file.js';

export type Verdict = 'false' | 'true' | 'wrong-term';

export interface FeedbackItem {
  /** The term the detection reported. */
  term: string;
  verdict: Verdict;
  /** The detection's confidence when it was made (used when there is no clip to score again). */
  score?: number;
  /** Path of the detection's evidence clip (WAV): scored again with the current model and vocabulary. */
  clip?: string;
  /** For `wrong-term`: the term that was really said (its clip is a positive for it; see the module comment). */
  actualTerm?: string;
  detectionId?: string;
}

export interface FeedbackSource {
  /** For messages: where the verdicts come from. */
  readonly description: string;
  items(): Promise<FeedbackItem[]>;
}

/** The highest score of `term` in a clip, or null when the term does not come up in it at all. */
export type ClipScorer = (clip: string, term: string) => Promise<number | null>;

const VERDICTS: readonly Verdict[] = ['false', 'true', 'wrong-term'];

/** One FeedbackItem per line (`#` comments and blank lines ignored); every bad line is named. */
export function jsonlFeedbackSource(file: string): FeedbackSource {
  return {
    description: file,
    async items() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(`cannot read feedback ${file}: ${(err as Error).message}`, { cause: err });
      }
      const items: FeedbackItem[] = [];
      const problems: string[] = [];
      text.split(/\r?\n/).forEach((line, i) => {
        if (!line.trim() || line.trim().startsWith('#')) return;
        try {
          items.push(parseFeedbackItem(JSON.parse(line)));
        } catch (err) {
          problems.push(`${file}:${i + 1}: ${(err as Error).message}`);
        }
      });
      if (problems.length > 0) throw new Error(`${problems.length} bad feedback line(s):\n  ${problems.join('\n  ')}`);
      return items;
    },
  };
}

export function parseFeedbackItem(value: unknown): FeedbackItem {
  const v = value as Partial<FeedbackItem> | null;
  if (v === null || typeof v !== 'object') throw new Error('expected a JSON object {"term", "verdict", "score" or "clip"}');
  if (typeof v.term !== 'string' || !v.term.trim()) throw new Error('"term" must be the detected term');
  if (!VERDICTS.includes(v.verdict as Verdict)) throw new Error(`"verdict" must be one of ${VERDICTS.join(', ')}, got ${JSON.stringify(v.verdict)}`);
  if (v.score !== undefined && !(typeof v.score === 'number' && v.score >= 0 && v.score <= 1)) throw new Error('"score" must be a number in [0,1]');
  if (v.clip !== undefined && typeof v.clip !== 'string') throw new Error('"clip" must be a file path');
  if (v.score === undefined && v.clip === undefined) throw new Error('give "score" or "clip" (or both)');
  return { ...v, term: v.term.trim().toLowerCase().replace(/\s+/g, ' ') } as FeedbackItem;
}

export interface FeedbackChange {
  term: string;
  from: number;
  to: number;
  siteThreshold: number;
  /** `false` verdicts on the term's detections. */
  falseVerdicts: number;
  /** `wrong-term` verdicts on its detections (another term was said): false alarms of it too. */
  wrongTermVerdicts: number;
  /**
   * Positives scoring below the new threshold: its detections marked true, and clips whose
   * `wrong-term` verdict names it, that it would now miss.
   */
  trueBelow: number;
}

export interface FeedbackResult {
  calibration: Calibration;
  changes: FeedbackChange[];
  /** Verdicts that could not be used, with why. */
  skipped: string[];
}

/** The threshold just above a score (thresholds pass scores at or above them). */
const above = (score: number): number => Math.min(1, Math.floor(score * 1000 + 1e-9) / 1000 + 0.001);

const normalise = (term: string): string => term.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * New thresholds: for each term with false alarms (`false` and `wrong-term` verdicts on its
 * detections), max(site threshold, just above the highest score of those clips); every other term
 * keeps its site threshold. Computed from the site calibration each time, so running it again on the
 * same verdicts changes nothing.
 */
export async function applyFeedback(site: Calibration, items: readonly FeedbackItem[], scoreClip?: ClipScorer): Promise<FeedbackResult> {
  const skipped: string[] = [];
  const falseScores = new Map<string, number[]>();
  const trueScores = new Map<string, number[]>();
  const wrongTerms = new Map<string, number>();
  const add = (into: Map<string, number[]>, term: string, score: number): void => void into.set(term, [...(into.get(term) ?? []), score]);
  for (const item of items) {
    if (!site.terms[item.term]) {
      skipped.push(`"${item.term}" (${item.verdict}): not a term of this calibration's vocabulary`);
      continue;
    }
    const said = item.verdict === 'wrong-term' && item.actualTerm ? normalise(item.actualTerm) : null;
    if (said === item.term) {
      skipped.push(`"${item.term}" (wrong-term ${said}): names the detected term itself; a right detection is verdict "true"`);
      continue;
    }
    const score = await clipScore(item, item.term, item.score ?? null, skipped, scoreClip);
    if (score !== null) {
      add(item.verdict === 'true' ? trueScores : falseScores, item.term, score);
      if (item.verdict === 'wrong-term') wrongTerms.set(item.term, (wrongTerms.get(item.term) ?? 0) + 1);
    }
    if (said === null) continue;
    // The clip is a positive for the term that was said: scored for it, never raising it.
    if (!site.terms[said]) skipped.push(`"${item.term}" (wrong-term ${said}): "${said}" is not a term of this calibration's vocabulary, so the clip counts only against "${item.term}"`);
    else if (item.clip && scoreClip) {
      const saidScore = await clipScore({ ...item, score: undefined }, said, null, skipped, scoreClip);
      if (saidScore !== null) add(trueScores, said, saidScore);
    }
  }
  const terms: Calibration['terms'] = {};
  const changes: FeedbackChange[] = [];
  for (const [term, t] of Object.entries(site.terms)) {
    const falses = falseScores.get(term) ?? [];
    const wrong = wrongTerms.get(term) ?? 0;
    const to = falses.length > 0 ? Math.max(t.siteThreshold, above(Math.max(...falses))) : t.siteThreshold;
    const { falseVerdicts: _old, wrongTermVerdicts: _oldWrong, ...rest } = t;
    terms[term] = {
      ...rest, threshold: to,
      ...(falses.length > wrong ? { falseVerdicts: falses.length - wrong } : {}), ...(wrong > 0 ? { wrongTermVerdicts: wrong } : {}),
    };
    const trueBelow = (trueScores.get(term) ?? []).filter((s) => s < to).length;
    if (to !== t.threshold || falses.length > 0 || trueBelow > 0) {
      changes.push({ term, from: t.threshold, to, siteThreshold: t.siteThreshold, falseVerdicts: falses.length - wrong, wrongTermVerdicts: wrong, trueBelow });
    }
  }
  return { calibration: { ...site, source: 'feedback', createdAt: new Date().toISOString(), terms }, changes, skipped };
}

/** `term`'s score in the item's clip (scored again), else `stored`; null (and why, in `skipped`) when there is none. */
async function clipScore(item: FeedbackItem, term: string, stored: number | null, skipped: string[], scoreClip?: ClipScorer): Promise<number | null> {
  let score = stored;
  if (item.clip && scoreClip) {
    const rescored = await scoreClip(item.clip, term).catch((err: unknown) => {
      skipped.push(`clip ${item.clip}: ${(err as Error).message}${score === null ? '' : '; its stored score is used'}`);
      return null;
    });
    if (rescored !== null) score = rescored;
  }
  if (score === null) {
    skipped.push(`"${term}" (${item.verdict === 'wrong-term' && term !== item.term ? `said, wrong-term on "${item.term}"` : item.verdict})${item.clip ? ` clip ${item.clip}` : ''}: no score (the term does not come up in the clip with this model)`);
  }
  return score;
}
