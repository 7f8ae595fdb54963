/**
 * What calibration counts: the scored occurrences of each term in some audio, and how many
 * detections they would make at a threshold.
 */
import type { ScoreSink, TermScore } from '../kws/types.js';

/** An occurrence of a term in a recording: a TermScore and where it was heard. */
export interface Occurrence {
  score: number;
  start: number;
  end: number;
  /** Recording it came from (for "listen to the worst false alarms" advice). */
  file: string;
}

/**
 * The score distribution of one term in `hours` of audio, in the form threshold selection needs.
 * Implemented from exact occurrences (recordings) and from histograms (the daemon's history).
 */
export interface ScoreTail {
  hours: number;
  /** Detections the term would make at `threshold` in that audio (an upper bound is allowed). */
  count(threshold: number): number;
  /** Distinct scores seen, ascending: the thresholds worth trying are just above these. */
  scores(): number[];
  /** The k highest scores, highest first (repeats included). */
  top(k: number): number[];
}

/**
 * Detections at `threshold` among occurrences sorted by start: those at or above it, with the
 * daemon's refractory rule applied (an occurrence starting less than `refractorySec` after the
 * end of the last counted one is not counted; an overlapping one never is).
 */
export function countDetections(sorted: readonly Occurrence[], threshold: number, refractorySec: number): number {
  let count = 0;
  let lastEnd = -Infinity;
  let lastFile = '';
  for (const o of sorted) {
    if (o.score < threshold) continue;
    if (o.file === lastFile && o.start - lastEnd < refractorySec) continue;
    count++;
    lastEnd = o.end;
    lastFile = o.file;
  }
  return count;
}

/** Exact occurrences of one term in recordings. */
export class OccurrenceTail implements ScoreTail {
  private readonly sorted: Occurrence[];
  private readonly desc: number[];

  constructor(occurrences: readonly Occurrence[], readonly hours: number, private readonly refractorySec: number) {
    this.sorted = [...occurrences].sort((a, b) => a.file.localeCompare(b.file) || a.start - b.start || b.end - a.end);
    this.desc = occurrences.map((o) => o.score).sort((a, b) => b - a);
  }

  count(threshold: number): number {
    return countDetections(this.sorted, threshold, this.refractorySec);
  }

  scores(): number[] {
    return [...new Set(this.desc)].reverse();
  }

  top(k: number): number[] {
    return this.desc.slice(0, k);
  }

  /** The occurrences counted at `threshold`, highest score first: what an operator should listen to. */
  worst(threshold: number, k: number): Occurrence[] {
    const counted: Occurrence[] = [];
    let lastEnd = -Infinity;
    let lastFile = '';
    for (const o of this.sorted) {
      if (o.score < threshold || (o.file === lastFile && o.start - lastEnd < this.refractorySec)) continue;
      counted.push(o);
      lastEnd = o.end;
      lastFile = o.file;
    }
    return counted.sort((a, b) => b.score - a.score).slice(0, k);
  }
}

/** A span of a recording where a term is said (from a labels file): occurrences there are not false alarms. */
export interface LabelledSpan {
  file: string;
  start: number;
  end: number;
  /** The term said; null: any term may be said there. */
  term: string | null;
}

/** Occurrences within this many seconds of a labelled span belong to it. */
export const LABEL_SLACK_SEC = 0.5;

/**
 * A ScoreSink that keeps every occurrence per term, tagged with the recording being fed
 * (`file`, set by the caller before each recording), minus those inside labelled spans.
 */
export class OccurrenceLog implements ScoreSink {
  readonly byTerm = new Map<string, Occurrence[]>();
  file = '';
  /** Occurrences dropped because a labels file says the term is said there. */
  labelled = 0;

  constructor(readonly floor: number, private readonly labels: readonly LabelledSpan[] = []) {}

  score(s: TermScore): void {
    const inLabel = this.labels.some((l) => l.file === this.file && (l.term === null || l.term === s.term) &&
      s.start < l.end + LABEL_SLACK_SEC && s.end > l.start - LABEL_SLACK_SEC);
    if (inLabel) {
      this.labelled++;
      return;
    }
    let list = this.byTerm.get(s.term);
    if (!list) this.byTerm.set(s.term, (list = []));
    list.push({ score: s.score, start: s.start, end: s.end, file: this.file });
  }
}
