/** Scores detections against a ground truth of utterances: recall over target terms, false alarms per hour. */

export interface TimedTerm {
  term: string;
  start: number;
  end: number;
}

export interface ReferenceSpan {
  start: number;
  end: number;
  /** Terms that should be found in this span (recall counts these). */
  targets: readonly string[];
  /** Terms whose detection here is correct (targets and any other term spoken in the span). */
  allowed: readonly string[];
}

export interface Score {
  targets: number;
  hits: number;
  recall: number;
  falseAlarms: number;
  hours: number;
  falseAlarmsPerHour: number;
  /** The first few false alarms, for a look. */
  falseAlarmExamples: TimedTerm[];
  /** Terms most often missed, with counts. */
  missedTerms: Record<string, number>;
}

/** Slack around a span (s): a detection counts for the span if its middle lies within. */
export const SPAN_SLACK_SEC = 0.5;

/**
 * A detection is a hit when it lies in a span (lenient: anywhere within the utterance) whose allowed
 * terms include it; each target counts once however often it is found. Everything else is a false alarm.
 */
export function scoreDetections(dets: readonly TimedTerm[], spans: readonly ReferenceSpan[], audioSec: number): Score {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const found = sorted.map(() => new Set<string>());
  const fas: TimedTerm[] = [];
  let falseAlarms = 0;
  for (const d of dets) {
    const mid = (d.start + d.end) / 2;
    const i = findSpan(sorted, mid);
    if (i >= 0 && sorted[i]!.allowed.includes(d.term)) found[i]!.add(d.term);
    else {
      falseAlarms++;
      if (fas.length < 10) fas.push({ term: d.term, start: d.start, end: d.end });
    }
  }
  let targets = 0, hits = 0;
  const missedTerms: Record<string, number> = {};
  sorted.forEach((s, i) => {
    for (const t of s.targets) {
      targets++;
      if (found[i]!.has(t)) hits++;
      else missedTerms[t] = (missedTerms[t] ?? 0) + 1;
    }
  });
  const hours = audioSec / 3600;
  return {
    targets, hits, recall: targets ? hits / targets : NaN, falseAlarms, hours,
    falseAlarmsPerHour: hours > 0 ? falseAlarms / hours : NaN, falseAlarmExamples: fas, missedTerms: topCounts(missedTerms, 10),
  };
}

function findSpan(spans: readonly ReferenceSpan[], t: number): number {
  let lo = 0, hi = spans.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.start - SPAN_SLACK_SEC <= t) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best >= 0 && t <= spans[best]!.end + SPAN_SLACK_SEC ? best : -1;
}

function topCounts(counts: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, n));
}

/** Sums scores of separate runs (recall and FA/h recomputed from the totals). */
export function combineScores(scores: readonly Score[]): Score {
  const targets = scores.reduce((s, x) => s + x.targets, 0);
  const hits = scores.reduce((s, x) => s + x.hits, 0);
  const falseAlarms = scores.reduce((s, x) => s + x.falseAlarms, 0);
  const hours = scores.reduce((s, x) => s + x.hours, 0);
  const missed: Record<string, number> = {};
  for (const s of scores) for (const [t, c] of Object.entries(s.missedTerms)) missed[t] = (missed[t] ?? 0) + c;
  return {
    targets, hits, recall: targets ? hits / targets : NaN, falseAlarms, hours, falseAlarmsPerHour: hours > 0 ? falseAlarms / hours : NaN,
    falseAlarmExamples: scores.flatMap((s) => s.falseAlarmExamples).slice(0, 10), missedTerms: topCounts(missed, 10),
  };
}
