/**
 * What `gearhear adapt` fits on and measures with: windows of the speech embedding through the
 * factory heads, kept as rows of the heads' features plus the factory score of each enrolled term,
 * grouped in runs of consecutive hops (a recording, a take) so that patience can be applied.
 */
import { concatSamples, scaledCopy } from '../audio/pcm.js';
import { SAMPLE_RATE } from '../audio/types.js';
import { addNoise } from '../kws/head-compile.js';
import { HOP_SAMPLES, INT16_SCALE, type SpeechEmbedding } from '../model/speech-embedding.js';
import { windowsEndingAt, type TermHeads } from '../model/term-heads.js';

/** Rows of features with each wanted term's factory score; `runs` are lengths of consecutive hops. */
export interface ScoredRows {
  features: Float32Array;
  dim: number;
  /** Factory score per term, one per row. */
  base: Map<string, Float32Array>;
  runs: number[];
}

const BATCH = 512;
/** Long recordings are scored in pieces of this many seconds. */
const RECORDING_PIECE_SEC = 60;

export class RowMaker {
  private init: Float32Array | null = null;

  constructor(private readonly heads: TermHeads, private readonly embedding: SpeechEmbedding, readonly terms: readonly string[]) {}

  get count(): number {
    return this.terms.length;
  }

  /** Embeddings per window of the factory heads. */
  get window(): number {
    return this.heads.manifest.window;
  }

  /** Windows laid end to end -> rows (one run). */
  async rows(windows: Float32Array, n: number): Promise<ScoredRows> {
    const per = this.heads.manifest.window * this.heads.manifest.dim, all = this.heads.terms.length;
    const feats: Float32Array[] = [], base = new Map(this.terms.map((t) => [t, new Float32Array(n)]));
    let dim = 0;
    for (let b = 0; b < n; b += BATCH) {
      const m = Math.min(BATCH, n - b);
      const r = await this.heads.scoreWithFeatures(windows.subarray(b * per, (b + m) * per), m);
      dim = r.featureDim;
      feats.push(Float32Array.from(r.features));
      for (const t of this.terms) {
        const col = this.heads.termIndex.get(t)!, out = base.get(t)!;
        for (let i = 0; i < m; i++) out[b + i] = r.factory[i * all + col]!;
      }
    }
    return { features: concatSamples(feats), dim, base, runs: [n] };
  }

  /**
   * A clip (16 kHz, [-1, 1]) as a fresh stream sees it -> rows of the windows ending at `ends`
   * (1-based hops; default every hop). Also returns how many hops the clip has.
   */
  async clipRows(samples: Float32Array, ends?: (hops: number) => number[]): Promise<{ rows: ScoredRows; hops: number }> {
    this.init ??= await this.embedding.initialEmbedding();
    const pcm = scaledCopy(samples, INT16_SCALE);
    const { data, count } = await this.embedding.embedAsStream(pcm);
    const k = ends ? ends(count).filter((e) => e >= 1 && e <= count) : Array.from({ length: count }, (_, i) => i + 1);
    const rows = await this.rows(windowsEndingAt(data, this.init, this.heads.manifest.window, k), k.length);
    return { rows, hops: count };
  }

  /**
   * Each scored term's best factory score over the windows of a clip ending at `ends`: what the
   * factory heads think the clip says.
   */
  async bestScores(samples: Float32Array, ends: (hops: number) => number[]): Promise<Float32Array> {
    this.init ??= await this.embedding.initialEmbedding();
    const { data, count } = await this.embedding.embedAsStream(scaledCopy(samples, INT16_SCALE));
    const k = ends(count).filter((e) => e >= 1 && e <= count), all = this.heads.terms.length;
    const best = new Float32Array(all);
    if (k.length === 0) return best;
    const { factory } = await this.heads.scoreWithFeatures(windowsEndingAt(data, this.init, this.heads.manifest.window, k), k.length);
    for (let i = 0; i < k.length; i++) for (let c = 0; c < all; c++) best[c] = Math.max(best[c]!, factory[i * all + c]!);
    return best;
  }

  /** Column of each scored term, and every term scored. */
  get allTerms(): readonly string[] {
    return this.heads.terms.map((t) => t.term);
  }

  /**
   * A long recording as parts of at most RECORDING_PIECE_SEC, each a fresh stream (as a speech
   * segment is), so that the embedding's mel windows of an hour never sit in memory at once.
   */
  async recordingParts(samples: Float32Array): Promise<ScoredRows[]> {
    const piece = RECORDING_PIECE_SEC * SAMPLE_RATE, parts: ScoredRows[] = [];
    for (let s = 0; s < samples.length; s += piece) {
      const r = (await this.clipRows(samples.subarray(s, Math.min(samples.length, s + piece)))).rows;
      if (rowCount(r) > 0) parts.push(r);
    }
    return parts;
  }
}

export function emptyRows(terms: readonly string[], dim = 0): ScoredRows {
  return { features: new Float32Array(0), dim, base: new Map(terms.map((t) => [t, new Float32Array(0)])), runs: [] };
}

export function joinRows(parts: readonly ScoredRows[], terms: readonly string[]): ScoredRows {
  const dim = parts.find((p) => p.dim > 0)?.dim ?? 0;
  return {
    features: concatSamples(parts.map((p) => p.features)), dim,
    base: new Map(terms.map((t) => [t, concatSamples(parts.map((p) => p.base.get(t)!))])),
    runs: parts.flatMap((p) => p.runs),
  };
}

export function rowCount(r: ScoredRows): number {
  return r.dim === 0 ? 0 : r.features.length / r.dim;
}

/** A take or clip with the sample where its term ends. */
export interface Said { samples: Float32Array; end: number }

export interface Perturbation {
  /** Silence (or noise) before the speech, seconds. */
  leadSec: number;
  gain: number;
  /** SNR of the added noise in dB; null: none. */
  snrDb: number | null;
}

/** `said` placed after a lead, scaled, maybe in noise (a site noise bed, else low-passed noise). */
export function perturb(said: Said, p: Perturbation, beds: readonly Float32Array[], rng: () => number): Said {
  const lead = Math.round(p.leadSec * SAMPLE_RATE), tail = Math.round(0.4 * SAMPLE_RATE);
  const x = new Float32Array(lead + said.samples.length + tail);
  for (let i = 0; i < said.samples.length; i++) x[lead + i] = said.samples[i]! * p.gain;
  if (p.snrDb !== null) {
    if (beds.length > 0) mixBed(x, beds[Math.floor(rng() * beds.length)]!, p.snrDb, rng);
    else addNoise(x, p.snrDb, rng);
  }
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-1, Math.min(1, x[i]!));
  return { samples: x, end: lead + said.end };
}

function mixBed(x: Float32Array, bed: Float32Array, snrDb: number, rng: () => number): void {
  let px = 0, pb = 0;
  for (const v of x) px += v * v;
  for (const v of bed) pb += v * v;
  px /= x.length;
  pb /= bed.length;
  const gain = Math.sqrt((px / Math.max(pb, 1e-12)) * 10 ** (-snrDb / 10));
  let pos = Math.floor(rng() * bed.length);
  for (let i = 0; i < x.length; i++, pos++) x[i] = x[i]! + bed[pos % bed.length]! * gain;
}

/** The hop (1-based) in which sample `end` falls, as the detector counts hops. */
export function hopOfSample(end: number): number {
  return Math.max(1, Math.ceil(end / HOP_SAMPLES));
}
