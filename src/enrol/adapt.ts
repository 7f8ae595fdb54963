/**
 * `gearhear adapt`: a site head for each enrolled term, stacked on its factory head (see SiteHead):
 * a logistic unit on the heads' features and the factory score, fitted (head-fit.ts's fitUnit) on
 * the site's takes of the term, each several times perturbed (lead, gain, the site's noise or
 * low-passed noise) and `true` evidence clips, against the shipped negative bank, the site's
 * term-free recordings, `false` evidence clips of the term, the other enrolled terms' takes and the
 * term's own takes cut short. Its bias puts the highest fitting negative (with patience) a margin
 * below the term's threshold.
 *
 * Guard, per term, before anything is written: the takes must sound like the term to the factory
 * heads (in the median take at most MAX_TAKE_RANK unrelated terms score higher than it), a
 * head fitted without every third take must find at least as many of those held-out takes as the
 * factory head does, and the head must raise no more false alarms per hour on the negatives held
 * out from fitting (a fifth of the bank, half the site's recordings) than the target (or than the
 * factory head, when it raises more). The head written is then refitted on every take, and its false
 * alarms on the held-out negatives are checked again.
 */
import { silentLogger, type Logger } from '../log.js';
import { fitUnit, unitLogits, type Rows, type Unit } from '../kws/head-fit.js';
import { seededRandom } from '../kws/term-synth.js';
import type { NegativeBank } from '../model/negative-bank.js';
import { scoreLogit, type TermHeads } from '../model/term-heads.js';
import { countAlarms, hoursOf, median, patientValues } from './adapt-guard.js';
import { hopOfSample, joinRows, perturb, rowCount, RowMaker, type Said, type ScoredRows } from './adapt-rows.js';
import { factoryHeadSha256, type GuardFigures, type SiteTermEntry } from './site-heads.js';

/**
 * In the median take, at most this many other terms may score higher than the enrolled one on the
 * factory heads (else: a take of another word?). Chosen on Speech Commands speakers 0-b (never on
 * the benchmark's c-f): 14 words with shipped heads, 12 clips each, the said word's own column was
 * the median clip's first; another word's column ranked 2nd-3rd at best, mostly far lower.
 */
export const MAX_TAKE_RANK = 1;
/** The highest fitting negative sits this far (logit) below the term's threshold. */
const BIAS_MARGIN = 0.5;
/** Perturbed copies of each take (the first is the take itself). */
const DEFAULT_PERTURBATIONS = 8;
/** Fitting uses at most this many bank windows (evenly spread); the bias and guard use all of theirs. */
const MAX_FIT_BANK_ROWS = 8000;
/** The term ends within this many hops after the take's speech end (positives: ke .. ke + 3). */
const POSITIVE_HOPS = 4;

export interface EnrolledTerm {
  term: string;
  takes: Array<Said & { who: string }>;
  /** Evidence clips an operator marked `true` (or `wrong-term <this term>`). */
  truePositives: Said[];
  /** Evidence clips of this term an operator marked `false`. */
  hardNegatives: Float32Array[];
  /** The term's threshold on the keyword scale (kws.threshold, or its vocabulary line's). */
  threshold: number;
}

export interface SiteAdaptOptions {
  /** The factory heads: shipped, with the vocabulary's compiled ones. */
  heads: TermHeads;
  embedding: import('../model/speech-embedding.js').SpeechEmbedding;
  bank: NegativeBank;
  scorePivot: number;
  patienceHops: number;
  refractorySec: number;
  targetFaPerHour: number;
  /** The site's term-free recordings (calibration audio), 16 kHz [-1, 1]. */
  siteNegatives?: Float32Array[];
  /** The site's machine noise, to perturb takes with. */
  noiseBeds?: Float32Array[];
  perturbations?: number;
  seed?: number;
  logger?: Logger;
}

export interface TermOutcome {
  term: string;
  accepted: boolean;
  /** Why it was refused (empty when accepted). */
  refusals: string[];
  entry: SiteTermEntry;
}

interface Negatives { fit: ScoredRows; held: ScoredRows }

export class SiteAdapter {
  private readonly logger: Logger;

  constructor(private readonly o: SiteAdaptOptions) {
    this.logger = o.logger ?? silentLogger;
  }

  async adapt(terms: readonly EnrolledTerm[]): Promise<TermOutcome[]> {
    const names = terms.map((t) => t.term);
    for (const t of names) if (!this.o.heads.termIndex.has(t)) throw new RangeError(`no factory head for "${t}"`);
    const maker = new RowMaker(this.o.heads, this.o.embedding, names);
    const t0 = performance.now();
    const negatives = await this.negatives(maker);
    this.logger.info('adapt: negatives ready', { fit: rowCount(negatives.fit), held: rowCount(negatives.held), seconds: Math.round((performance.now() - t0) / 100) / 10 });
    // Every term's clean takes, once: positives elsewhere are negatives here.
    const takeRows = new Map<string, ScoredRows>();
    for (const t of terms) {
      const parts: ScoredRows[] = [];
      for (const s of t.takes) parts.push((await maker.clipRows(perturb(s, CLEAN, [], Math.random).samples)).rows);
      takeRows.set(t.term, joinRows(parts, names));
    }
    const out: TermOutcome[] = [];
    for (const t of terms) {
      const t1 = performance.now();
      const others = terms.filter((o) => o !== t && !` ${o.term} `.includes(` ${t.term} `)).map((o) => takeRows.get(o.term)!);
      out.push(await this.adaptTerm(maker, t, negatives, others, (performance.now() - t1) / 1000));
    }
    return out;
  }

  private async negatives(maker: RowMaker): Promise<Negatives> {
    const fitParts = [await maker.bankRows(this.o.bank, (s) => s % 5 !== 0)], heldParts = [await maker.bankRows(this.o.bank, (s) => s % 5 === 0)];
    for (const [i, rec] of (this.o.siteNegatives ?? []).entries()) (i % 2 === 0 ? fitParts : heldParts).push((await maker.clipRows(rec)).rows);
    const names = maker.terms;
    return { fit: joinRows(fitParts, names), held: joinRows(heldParts, names) };
  }

  private async adaptTerm(maker: RowMaker, t: EnrolledTerm, neg: Negatives, others: ScoredRows[], prepSec: number): Promise<TermOutcome> {
    const t0 = performance.now();
    const thr = scoreLogit(this.o.scorePivot) + scoreLogit(t.threshold);
    const P = this.o.patienceHops;
    const hardParts: ScoredRows[] = [];
    for (const x of t.hardNegatives) hardParts.push((await maker.clipRows(x)).rows);
    const hardRows = joinRows(hardParts, [t.term]);
    // Does each take sound like the term to the factory heads? How many unrelated terms score higher near its end.
    const takeRanks: number[] = [];
    const all = maker.allTerms, col = all.indexOf(t.term);
    const unrelated = all.map((o) => o !== t.term && !` ${o} `.includes(` ${t.term} `) && !` ${t.term} `.includes(` ${o} `));
    for (const s of t.takes) {
      const ke = hopOfSample(s.end + lead(CLEAN));
      const best = await maker.bestScores(perturb(s, CLEAN, [], Math.random).samples, (h) => range(Math.max(1, ke - 2), Math.min(h, ke + 6)));
      takeRanks.push(all.filter((_, c) => unrelated[c] && best[c]! > best[col]!).length);
    }
    const held = t.takes.length >= 3 ? t.takes.filter((_, i) => i % 3 === 2) : [];
    const fitTakes = t.takes.filter((s) => !held.includes(s));
    const guardUnit = await this.fit(maker, t, fitTakes, neg.fit, hardRows, others, thr);
    let recallBefore = 0, recallAfter = 0;
    for (const s of held) {
      const { rows } = await maker.clipRows(perturb(s, CLEAN, [], Math.random).samples);
      recallBefore += found(Array.from(rows.base.get(t.term)!, scoreLogit), rows.runs, thr, P) ? 1 : 0;
      recallAfter += found(siteLogits(guardUnit, rows, t.term), rows.runs, thr, P) ? 1 : 0;
    }
    const heldHours = hoursOf(rowCount(neg.held));
    const faBefore = countAlarms(Array.from(neg.held.base.get(t.term)!, scoreLogit), neg.held.runs, thr, P, this.o.refractorySec) / heldHours;
    const faGuard = countAlarms(siteLogits(guardUnit, neg.held, t.term), neg.held.runs, thr, P, this.o.refractorySec) / heldHours;
    const unit = held.length > 0 ? await this.fit(maker, t, t.takes, neg.fit, hardRows, others, thr) : guardUnit;
    const faAfter = Math.max(faGuard, countAlarms(siteLogits(unit, neg.held, t.term), neg.held.runs, thr, P, this.o.refractorySec) / heldHours);
    const guard: GuardFigures = {
      heldOutTakes: held.length, recallBefore: ratio(recallBefore, held.length), recallAfter: ratio(recallAfter, held.length),
      negativeHours: round(heldHours), faPerHourBefore: round(faBefore), faPerHourAfter: round(faAfter), takesRank: median(takeRanks),
    };
    const refusals: string[] = [];
    if (guard.takesRank > MAX_TAKE_RANK) {
      refusals.push(`the takes do not sound like "${t.term}" to the factory heads: in the median take ${guard.takesRank} other terms score higher (at most ${MAX_TAKE_RANK} allowed); were they takes of another word?`);
    }
    if (recallAfter < recallBefore) refusals.push(`it finds ${recallAfter} of ${held.length} held-out takes, the factory head ${recallBefore}`);
    const allowed = Math.max(this.o.targetFaPerHour, faBefore);
    if (faAfter > allowed) refusals.push(`${guard.faPerHourAfter} false alarms per hour on ${guard.negativeHours} h of held-out negatives (factory head ${guard.faPerHourBefore}, target ${this.o.targetFaPerHour})`);
    const dim = neg.fit.dim;
    const entry: SiteTermEntry = {
      term: t.term, baseSha256: factoryHeadSha256(this.o.heads, t.term), bias: unit.bias, baseWeight: Number(unit.weights[dim]!.toPrecision(6)),
      weights: Array.from(unit.weights.subarray(0, dim), (w) => Number(w.toPrecision(6))),
      takes: t.takes.length, speakers: [...new Set(t.takes.map((s) => s.who))], trueClips: t.truePositives.length, falseClips: t.hardNegatives.length,
      positives: (t.takes.length + t.truePositives.length) * (this.o.perturbations ?? DEFAULT_PERTURBATIONS) * POSITIVE_HOPS,
      negatives: rowCount(neg.fit) + rowCount(hardRows), guard, seconds: round(prepSec + (performance.now() - t0) / 1000), adaptedAt: new Date().toISOString(),
    };
    this.logger.info('adapt: term', { term: t.term, accepted: refusals.length === 0, ...guard, seconds: entry.seconds });
    return { term: t.term, accepted: refusals.length === 0, refusals, entry };
  }

  /** One unit on [features, factory logit], its bias set on the fitting negatives. */
  private async fit(maker: RowMaker, t: EnrolledTerm, takes: readonly Said[], bankFit: ScoredRows, hard: ScoredRows, others: ScoredRows[], thr: number): Promise<Unit> {
    const rng = seededRandom(this.o.seed ?? 1);
    const n = this.o.perturbations ?? DEFAULT_PERTURBATIONS;
    const pos: ScoredRows[] = [], cut: ScoredRows[] = [];
    for (const s of [...takes, ...t.truePositives]) {
      for (let k = 0; k < n; k++) {
        const p = k === 0 ? CLEAN : { leadSec: 0.1 + rng() * 0.5, gain: 0.4 + rng() * 1.1, snrDb: rng() < 0.75 ? 5 + rng() * 20 : null };
        const placed = perturb(s, p, this.o.noiseBeds ?? [], rng);
        const ke = hopOfSample(placed.end);
        pos.push((await maker.clipRows(placed.samples, (h) => range(ke, Math.min(h, ke + POSITIVE_HOPS - 1)))).rows);
        if (ke > 3) cut.push((await maker.clipRows(placed.samples, () => range(1, ke - 3))).rows);
      }
    }
    const names = [t.term];
    const posRows = toRows(joinRows(pos, names), t.term);
    const fitNeg = joinRows([subsample(bankFit, MAX_FIT_BANK_ROWS), hard, hard, hard, ...cut, ...others], names);
    const unit = fitUnit(posRows, toRows(fitNeg, t.term));
    // Bias: the highest fitting negative, with patience, BIAS_MARGIN below the threshold.
    const all = joinRows([bankFit, hard, ...cut, ...others], names);
    const patient = patientValues(unitLogits(unit, toRows(all, t.term)), all.runs, this.o.patienceHops);
    let top = -Infinity;
    for (const v of patient) if (v > top) top = v;
    if (Number.isFinite(top)) unit.bias += thr - BIAS_MARGIN - top;
    return unit;
  }
}

const CLEAN = { leadSec: 0.3, gain: 1, snrDb: null };
const lead = (p: { leadSec: number }): number => Math.round(p.leadSec * 16000);
const range = (a: number, b: number): number[] => (b < a ? [] : Array.from({ length: b - a + 1 }, (_, i) => a + i));
const round = (x: number): number => Math.round(x * 1000) / 1000;
const ratio = (a: number, b: number): number => (b === 0 ? NaN : round(a / b));

/** [features, logit(factory score of term)] rows for fitUnit. */
export function toRows(r: ScoredRows, term: string): Rows {
  const n = rowCount(r), dim = r.dim, base = r.base.get(term)!;
  const data = new Float32Array(n * (dim + 1));
  for (let i = 0; i < n; i++) {
    data.set(r.features.subarray(i * dim, (i + 1) * dim), i * (dim + 1));
    data[i * (dim + 1) + dim] = scoreLogit(base[i]!);
  }
  return { data, dim: dim + 1 };
}

/** The unit's logit of each row ([features, factory logit]). */
export function siteLogits(u: Unit, r: ScoredRows, term: string): Float64Array {
  return unitLogits(u, toRows(r, term));
}

function found(logits: ArrayLike<number>, runs: readonly number[], thr: number, patience: number): boolean {
  for (const v of patientValues(logits, runs, patience)) if (v >= thr) return true;
  return false;
}

/** Every k-th row so that at most `max` remain (runs become single rows: fitting ignores them). */
function subsample(r: ScoredRows, max: number): ScoredRows {
  const n = rowCount(r), step = Math.max(1, Math.ceil(n / max)), keep = Math.ceil(n / step);
  const features = new Float32Array(keep * r.dim);
  const base = new Map([...r.base].map(([t]) => [t, new Float32Array(keep)]));
  for (let j = 0; j < keep; j++) {
    features.set(r.features.subarray(j * step * r.dim, (j * step + 1) * r.dim), j * r.dim);
    for (const [t, b] of r.base) base.get(t)![j] = b[j * step]!;
  }
  return { features, dim: r.dim, base, runs: Array.from({ length: keep }, () => 1) };
}
