/**
 * The daemon's score history: per term, a histogram of the scores of every occurrence it heard
 * (no audio, no times), and how much audio that was, in `<state.dir>/score-history.json`, so
 * `gearhear calibrate --from-history` works without recordings.
 *
 * Storage bound: terms of the current vocabulary only (others are dropped at the next write), and
 * per term at most HISTORY_BINS (71) counters; at most HISTORY_BYTES_PER_TERM (1,762) bytes per term
 * on disk (345 KB for the 196 shipped terms), typically far less (only bins that were hit are written).
 * A term whose pronunciation or boost changed, or a new model, starts again from zero.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeywordSpec, ScoreSink, TermScore } from '../kws/types.js';
import type { ScoreTail } from './occurrences.js';
import { CALIBRATION_FLOOR } from './thresholds.js';

export const HISTORY_FILE = 'score-history.json';
export const HISTORY_FORMAT = 'gearhear-score-history/1';
export const HISTORY_BIN_WIDTH = 0.01;
/** Bins of HISTORY_BIN_WIDTH from the floor up to 1, plus one for a score of exactly 1. */
export const HISTORY_BINS = Math.round((1 - CALIBRATION_FLOOR) / HISTORY_BIN_WIDTH) + 1;
/** Upper bound of one term's entry in the file (71 bins of `"70":<up to 15 digits>,` plus its name, key and audio time). */
export const HISTORY_BYTES_PER_TERM = HISTORY_BINS * 22 + 200;
/** How often the daemon writes the history (and at stop). */
export const HISTORY_WRITE_MS = 300_000;

interface TermHistory {
  /** Hash of what the term's scores depend on besides the model: pronunciations and boost. */
  key: string;
  audioSec: number;
  /** Occurrences per bin index (sparse). */
  bins: Record<string, number>;
}

export interface ScoreHistoryFile {
  format: typeof HISTORY_FORMAT;
  modelSha256: string;
  floor: number;
  binWidth: number;
  updatedAt: string;
  terms: Record<string, TermHistory>;
}

export function termKey(spec: KeywordSpec): string {
  return createHash('sha256').update(JSON.stringify([spec.term, spec.pronunciations, spec.boost])).digest('hex').slice(0, 12);
}

export function binOf(score: number): number {
  return Math.max(0, Math.min(HISTORY_BINS - 1, Math.floor((score - CALIBRATION_FLOOR) / HISTORY_BIN_WIDTH + 1e-9)));
}

/**
 * Just under the highest score a bin holds (1 for the last bin), so counting from the histogram
 * errs towards more false alarms: a threshold passes the bin unless it is above the whole bin.
 */
export function binTop(bin: number): number {
  return bin >= HISTORY_BINS - 1 ? 1 : Math.round((CALIBRATION_FLOOR + (bin + 1) * HISTORY_BIN_WIDTH - 0.0001) * 10_000) / 10_000;
}

export async function readHistory(file: string): Promise<ScoreHistoryFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read score history ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const h = JSON.parse(text) as ScoreHistoryFile;
    if (h.format !== HISTORY_FORMAT || typeof h.terms !== 'object' || h.terms === null) throw new Error(`format is not ${HISTORY_FORMAT}`);
    return h;
  } catch (err) {
    throw new Error(`score history ${file} is damaged (${(err as Error).message}); remove it and the daemon starts a new one`, { cause: err });
  }
}

/** One term's histogram as a ScoreTail (no refractory time: counts are an upper bound). */
export class HistogramTail implements ScoreTail {
  readonly hours: number;
  private readonly entries: Array<[score: number, count: number]>;

  constructor(t: TermHistory) {
    this.hours = t.audioSec / 3600;
    this.entries = Object.entries(t.bins).map(([b, n]): [number, number] => [binTop(Number(b)), n]).sort((a, b) => a[0] - b[0]);
  }

  count(threshold: number): number {
    let n = 0;
    for (const [s, c] of this.entries) if (s >= threshold) n += c;
    return n;
  }

  scores(): number[] {
    return this.entries.map(([s]) => s);
  }

  top(k: number): number[] {
    const out: number[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < k; i--) {
      const [s, c] = this.entries[i]!;
      for (let j = 0; j < c && out.length < k; j++) out.push(s);
    }
    return out;
  }
}

/**
 * The daemon's recorder: a ScoreSink (floor CALIBRATION_FLOOR) counting occurrences per term,
 * `addAudio` for the audio heard, `setTerms` when the vocabulary changes, `write` to disk.
 */
export class ScoreHistory implements ScoreSink {
  readonly floor = CALIBRATION_FLOOR;
  private terms: Record<string, TermHistory> = {};

  private constructor(readonly file: string, private readonly modelSha256: string) {}

  /** Opens the history in `stateDir`, keeping what matches the model and the terms' keys. */
  static async open(stateDir: string, modelSha256: string, specs: readonly KeywordSpec[]): Promise<ScoreHistory> {
    const h = new ScoreHistory(path.join(stateDir, HISTORY_FILE), modelSha256);
    let old: ScoreHistoryFile | null = null;
    try {
      old = await readHistory(h.file);
    } catch {
      old = null; // damaged: start again (the daemon logs nothing lost but statistics)
    }
    if (old && old.modelSha256 === modelSha256 && old.floor === CALIBRATION_FLOOR && old.binWidth === HISTORY_BIN_WIDTH) h.terms = old.terms;
    h.setTerms(specs);
    return h;
  }

  /** Keeps the terms of `specs` whose key is unchanged, starts the others at zero, drops the rest. */
  setTerms(specs: readonly KeywordSpec[]): void {
    const next: Record<string, TermHistory> = {};
    for (const spec of specs) {
      const key = termKey(spec);
      const old = this.terms[spec.term];
      next[spec.term] = old && old.key === key ? old : { key, audioSec: 0, bins: {} };
    }
    this.terms = next;
  }

  score(s: TermScore): void {
    const t = this.terms[s.term];
    if (!t) return;
    const b = String(binOf(s.score));
    t.bins[b] = (t.bins[b] ?? 0) + 1;
  }

  addAudio(seconds: number): void {
    for (const t of Object.values(this.terms)) t.audioSec += seconds;
  }

  snapshot(): ScoreHistoryFile {
    return {
      format: HISTORY_FORMAT, modelSha256: this.modelSha256, floor: CALIBRATION_FLOOR, binWidth: HISTORY_BIN_WIDTH,
      updatedAt: new Date().toISOString(), terms: structuredClone(this.terms),
    };
  }

  /** Writes atomically (temp file, rename). */
  async write(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(tmp, JSON.stringify(this.snapshot()) + '\n');
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new Error(`cannot write score history ${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Tails of every term of the current vocabulary that the history has audio for. */
export function historyTails(h: ScoreHistoryFile, specs: readonly KeywordSpec[]): { tails: Map<string, ScoreTail>; stale: string[] } {
  const tails = new Map<string, ScoreTail>();
  const stale: string[] = [];
  for (const spec of specs) {
    const t = h.terms[spec.term];
    if (!t || t.key !== termKey(spec) || t.audioSec <= 0) stale.push(spec.term);
    else tails.set(spec.term, new HistogramTail(t));
  }
  return { tails, stale };
}
