/**
 * PocketSphinx keyword spotting on the enrolment benchmark's own audio (bench/enroll.ts
 * --pocketsphinx): the peer spotter, which no site can teach, beside the heads before and after
 * enrolment. The test clips go into one WAV and the term-free utterances into another, each with a
 * second of silence between them, and pocketsphinx looks for every term at once over a sweep of
 * thresholds (its keyword exponent per phone, strict to loose; it has no per-detection score). A
 * clip is found at a setting when that run detects its term inside the clip; false alarms are the
 * term's detections in the term-free WAV.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { POCKETSPHINX_DEFAULTS, runPocketsphinx } from './pocketsphinx.js';
import { writeWav } from './common.js';

/** Strict to loose: bench:wakeword's default sweep with stricter settings first (short command words need them to reach 0 FA). */
export const PSX_SWEEP = [-6, -4, -3, -2, -1, -0.5, 0, 0.5, 1];

export interface PsxMeasure { miss0: number; miss1: number; missDefault: number; faDefault: number }

interface Span { start: number; end: number }

/** Clips (and utterances) end to end, a second of silence after each; where each lies, in seconds. */
function concat(clips: readonly Float32Array[]): { samples: Float32Array; spans: Span[] } {
  const gap = SAMPLE_RATE;
  const out = new Float32Array(clips.reduce((a, c) => a + c.length + gap, 0)), spans: Span[] = [];
  let at = 0;
  for (const c of clips) {
    out.set(c, at);
    spans.push({ start: at / SAMPLE_RATE, end: (at + c.length) / SAMPLE_RATE });
    at += c.length + gap;
  }
  return { samples: out, spans };
}

export class PocketsphinxClips {
  /** found[level] = "term|clip" pairs detected at that sweep setting; alarms[level] = term -> count. */
  private constructor(private readonly sweep: readonly number[], private readonly found: Array<Set<string>>, private readonly alarms: Array<Map<string, number>>, private readonly negHours: number) {}

  /**
   * Runs the sweep. `clips`: each test clip once, by name, with the term said in it; `negatives`:
   * term-free utterances (`negHours` of them); `vocabPath`: a compiled vocabulary of `terms` (its lexicon
   * gives both spotters the same pronunciations); `sweep`: keyword exponents per phone, strict to loose.
   */
  static async run(clips: ReadonlyMap<string, { samples: Float32Array; term: string }>, negatives: readonly Float32Array[], negHours: number, terms: readonly string[], vocabPath: string, dir: string, sweep: readonly number[] = PSX_SWEEP): Promise<PocketsphinxClips> {
    const names = [...clips.keys()];
    const pos = concat(names.map((n) => clips.get(n)!.samples)), neg = concat(negatives);
    const posWav = path.join(dir, `enroll-psx-pos-${process.pid}.wav`), negWav = path.join(dir, `enroll-psx-neg-${process.pid}.wav`); // one run's own files
    const found: Array<Set<string>> = [], alarms: Array<Map<string, number>> = [];
    try {
      await writeWav(posWav, pos.samples);
      await writeWav(negWav, neg.samples);
      for (const exponentPerPhone of sweep) {
        const hits = new Set<string>();
        for (const d of (await runPocketsphinx(posWav, terms, vocabPath, { exponentPerPhone })).detections) {
          // The clip whose span holds the detection's end, if it says that term.
          const i = pos.spans.findIndex((s) => d.end >= s.start && d.end <= s.end + 0.05);
          if (i >= 0 && clips.get(names[i]!)!.term === d.term) hits.add(`${d.term}|${names[i]}`);
        }
        const counts = new Map<string, number>();
        for (const d of (await runPocketsphinx(negWav, terms, vocabPath, { exponentPerPhone })).detections) counts.set(d.term, (counts.get(d.term) ?? 0) + 1);
        found.push(hits);
        alarms.push(counts);
      }
    } finally {
      await Promise.all([rm(posWav, { force: true }), rm(negWav, { force: true })]);
    }
    return new PocketsphinxClips(sweep, found, alarms, negHours);
  }

  /** Miss over `clipNames` (all saying `term`) at the loosest setting within 0 and within 1 FA/h, and at pocketsphinx's default. */
  measure(term: string, clipNames: readonly string[]): PsxMeasure {
    const missAt = (level: number): number => (level < 0 ? 1 : clipNames.filter((n) => !this.found[level]!.has(`${term}|${n}`)).length / clipNames.length);
    const alarmsAt = (level: number): number => this.alarms[level]!.get(term) ?? 0;
    const loosestWithin = (allowed: number): number => {
      let best = -1;
      this.sweep.forEach((_, level) => { if (alarmsAt(level) <= allowed) best = level; });
      return best;
    };
    const def = this.sweep.indexOf(POCKETSPHINX_DEFAULTS.exponentPerPhone);
    return {
      miss0: missAt(loosestWithin(0)), miss1: missAt(loosestWithin(Math.floor(this.negHours))),
      missDefault: def < 0 ? NaN : missAt(def), faDefault: def < 0 ? NaN : alarmsAt(def) / this.negHours,
    };
  }
}
