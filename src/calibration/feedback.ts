/**
 * `gearhear calibrate --from-feedback`: operators' verdicts on detections raise the thresholds of
 * terms marked false, from the scores of their clips, and never lower any below the site calibration.
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
  /** For `wrong-term`: the term that was really said (informational). */
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
  falseVerdicts: number;
  /** True verdicts whose score is below the new threshold: detections the operator wanted that would now be missed. */
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

/**
 * New thresholds: for each term with false (or wrong-term) verdicts, max(site threshold, just above
 * the highest score of its false clips); every other term keeps its site threshold. Computed from
 * the site calibration each time, so running it again on the same verdicts changes nothing.
 */
export async function applyFeedback(site: Calibration, items: readonly FeedbackItem[], scoreClip?: ClipScorer): Promise<FeedbackResult> {
  const skipped: string[] = [];
  const falseScores = new Map<string, number[]>();
  const trueScores = new Map<string, number[]>();
  for (const item of items) {
    if (!site.terms[item.term]) {
      skipped.push(`"${item.term}" (${item.verdict}): not a term of this calibration's vocabulary`);
      continue;
    }
    let score = item.score ?? null;
    if (item.clip && scoreClip) {
      const rescored = await scoreClip(item.clip, item.term).catch((err: unknown) => {
        skipped.push(`clip ${item.clip}: ${(err as Error).message}${score === null ? '' : '; its stored score is used'}`);
        return null;
      });
      if (rescored !== null) score = rescored;
    }
    if (score === null) {
      skipped.push(`"${item.term}" (${item.verdict})${item.clip ? ` clip ${item.clip}` : ''}: no score (the term does not come up in the clip with this model)`);
      continue;
    }
    const into = item.verdict === 'true' ? trueScores : falseScores;
    const list = into.get(item.term) ?? [];
    list.push(score);
    into.set(item.term, list);
  }
  const terms: Calibration['terms'] = {};
  const changes: FeedbackChange[] = [];
  for (const [term, t] of Object.entries(site.terms)) {
    const falses = falseScores.get(term) ?? [];
    const to = falses.length > 0 ? Math.max(t.siteThreshold, above(Math.max(...falses))) : t.siteThreshold;
    const { falseVerdicts: _old, ...rest } = t;
    terms[term] = { ...rest, threshold: to, ...(falses.length > 0 ? { falseVerdicts: falses.length } : {}) };
    if (to !== t.threshold || falses.length > 0) {
      changes.push({ term, from: t.threshold, to, siteThreshold: t.siteThreshold, falseVerdicts: falses.length, trueBelow: (trueScores.get(term) ?? []).filter((s) => s < to).length });
    }
  }
  return { calibration: { ...site, source: 'feedback', createdAt: new Date().toISOString(), terms }, changes, skipped };
}
