import { createHash } from 'node:crypto';
import path from 'node:path';
import * as ort from './ort.js';
import { ModelLoadError, readPartManifest, readVerifiedPart } from './manifest.js';
import { EMBEDDING_DIM } from './speech-embedding.js';

/** One term a head model can score, with its typical spoken length (for the detection's start). */
export interface HeadTerm {
  term: string;
  durationSec: number;
}

/** heads.json: the term-head model's manifest. */
export interface HeadsManifest {
  id: string;
  version: string;
  file: string;
  sha256: string;
  /** Embeddings per input window (16 = 1.28 s). */
  window: number;
  dim: number;
  /** Score a term needs when neither the vocabulary nor a calibration sets one. */
  defaultThreshold: number;
  terms: HeadTerm[];
  licence?: string;
}

export const HEADS_MANIFEST = 'heads.json';

/**
 * A head fitted on a site for a term the shipped heads do not know (`gearhear vocab compile`): a
 * logistic unit on the shipped heads' `features` output, so it needs no training of its own network.
 */
export interface CompiledHead extends HeadTerm {
  weights: Float32Array;
  bias: number;
  /**
   * The head also reads the window's embeddings themselves ([window x dim], after the features in
   * `weights`): a linear template on the speech embedding beside the shipped heads' view of it.
   */
  readsWindow?: boolean;
}

/**
 * A head refitted on a site's own takes of a term (`gearhear adapt`), stacked on the term's factory
 * head (shipped or compiled): logit = bias + weights . features + baseWeight * logit(factory score).
 * It replaces the factory head's score in the term's column.
 */
export interface SiteHead {
  term: string;
  weights: Float32Array;
  baseWeight: number;
  bias: number;
}

/** The term heads: the last `window` embeddings in, one sigmoid score per term out. */
export class TermHeads {
  private compute = 0;
  private index = new Map<string, number>();
  private compiled: readonly CompiledHead[] = [];
  private site: ReadonlyArray<SiteHead & { column: number }> = [];
  private allTerms: readonly HeadTerm[];

  private constructor(readonly manifest: HeadsManifest, private readonly session: ort.InferenceSession, readonly dir: string, private readonly base: TermHeads | null = null) {
    this.allTerms = manifest.terms;
    this.index = new Map(manifest.terms.map((t, i) => [t.term, i]));
  }

  /** Column of each term in `score`'s output: the shipped terms, then the compiled ones. */
  get termIndex(): ReadonlyMap<string, number> {
    return this.index;
  }

  /** Every term scored, in column order. */
  get terms(): readonly HeadTerm[] {
    return this.allTerms;
  }

  get compiledTerms(): number {
    return this.compiled.length;
  }

  /** A compiled head's bias and weights as text ('' for a shipped term): what a site head stands on. */
  compiledHeadDigest(term: string): string {
    const c = this.compiled.find((h) => h.term === term);
    return c ? `${c.bias} ${Array.from(c.weights).join(' ')}` : '';
  }

  /** Terms whose score comes from a site head (`gearhear adapt`). */
  get siteTerms(): string[] {
    return this.site.map((h) => h.term);
  }

  /**
   * What a calibration or score history made with these heads depends on: the shipped model's
   * SHA-256, or with compiled heads a SHA-256 over it and their weights.
   */
  get sha256(): string {
    if (this.compiled.length === 0 && this.site.length === 0) return this.manifest.sha256;
    const h = createHash('sha256').update(this.manifest.sha256);
    const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const c of this.compiled) h.update(`\n${c.term}\n${c.bias}\n`).update(bytes(c.weights));
    for (const c of this.site) h.update(`\nsite ${c.term}\n${c.bias}\n${c.baseWeight}\n`).update(bytes(c.weights));
    return h.digest('hex');
  }

  /**
   * The same heads plus heads compiled for terms they lack (a compiled term the shipped heads already
   * have is ignored: the shipped head wins). A view: it shares this model, and only the model loaded
   * with `load` is disposed.
   */
  withCompiled(compiled: readonly CompiledHead[]): TermHeads {
    const view = new TermHeads(this.manifest, this.session, this.dir, this);
    const shipped = new Set(this.manifest.terms.map((t) => t.term));
    view.compiled = compiled.filter((h) => !shipped.has(h.term));
    view.allTerms = [...this.manifest.terms, ...view.compiled];
    view.index = new Map(view.allTerms.map((t, i) => [t.term, i]));
    return view;
  }

  /**
   * The same heads (with their compiled ones) with site heads replacing the scores of their terms. A
   * site head for a term these heads do not score is an error naming it. A view, like withCompiled.
   */
  withSite(site: readonly SiteHead[]): TermHeads {
    const view = new TermHeads(this.manifest, this.session, this.dir, this.base ?? this);
    view.compiled = this.compiled;
    view.allTerms = this.allTerms;
    view.index = this.index;
    view.site = site.map((h) => {
      const column = this.index.get(h.term);
      if (column === undefined) throw new RangeError(`site head for "${h.term}", which these heads do not score (compile it first: gearhear vocab compile)`);
      return { ...h, column };
    });
    return view;
  }

  static async load(dir: string, threads = 1): Promise<TermHeads> {
    const file = path.join(dir, HEADS_MANIFEST);
    const manifest = await readPartManifest<HeadsManifest>('term heads', file, 'set model.headsDir to a folder with heads.json, or model.detector=phones');
    if (!Array.isArray(manifest.terms) || manifest.terms.length === 0 || manifest.dim !== EMBEDDING_DIM || !(manifest.window > 0)) {
      throw new ModelLoadError(`term heads: ${file} must list terms, dim ${EMBEDDING_DIM} and a window > 0`);
    }
    const onnx = path.join(dir, manifest.file);
    const bytes = await readVerifiedPart('term heads', onnx, file, manifest.sha256);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
    } catch (cause) {
      throw new ModelLoadError(`term heads: onnxruntime could not load ${onnx}: ${(cause as Error).message}`, { cause });
    }
    return new TermHeads(manifest, session, dir);
  }

  get computeSeconds(): number {
    return this.base ? this.base.computeSeconds : this.compute;
  }

  /** Scores of `n` windows laid end to end ([n x window x 96]): [n x terms], compiled terms last. */
  async score(windows: Float32Array, n: number): Promise<Float32Array> {
    if (this.compiled.length === 0 && this.site.length === 0) return (await this.run(windows, n)).scores;
    return (await this.scoreWithFeatures(windows, n)).scores;
  }

  /**
   * Scores as `score` gives them, before any site head (`factory`) and after, with the features the
   * compiled and site heads read: what `gearhear adapt` fits on.
   */
  async scoreWithFeatures(windows: Float32Array, n: number): Promise<{ scores: Float32Array; factory: Float32Array; features: Float32Array; featureDim: number }> {
    const { scores, features, featureDim } = await this.run(windows, n);
    const shipped = this.manifest.terms.length, all = this.allTerms.length, per = this.manifest.window * this.manifest.dim;
    const factory = new Float32Array(n * all);
    for (let i = 0; i < n; i++) {
      factory.set(scores.subarray(i * shipped, (i + 1) * shipped), i * all);
      const f = features.subarray(i * featureDim, (i + 1) * featureDim), w = windows.subarray(i * per, (i + 1) * per);
      this.compiled.forEach((h, j) => (factory[i * all + shipped + j] = compiledScore(h, f, w)));
    }
    if (this.site.length === 0) return { scores: factory, factory, features, featureDim };
    const out = Float32Array.from(factory);
    for (let i = 0; i < n; i++) {
      const f = features.subarray(i * featureDim, (i + 1) * featureDim);
      for (const h of this.site) out[i * all + h.column] = siteScore(h, f, factory[i * all + h.column]!);
    }
    return { scores: out, factory, features, featureDim };
  }

  /** The shipped heads' scores [n x shipped terms] and last hidden layer [n x featureDim]. */
  async run(windows: Float32Array, n: number): Promise<{ scores: Float32Array; features: Float32Array; featureDim: number }> {
    const t0 = performance.now();
    const out = await this.session.run({ embeddings: new ort.Tensor('float32', windows, [n, this.manifest.window, this.manifest.dim]) });
    (this.base ?? this).compute += (performance.now() - t0) / 1000;
    const features = out['features'];
    if (!features) throw new ModelLoadError(`term heads: ${this.dir}/${this.manifest.file} has no 'features' output; compiled heads need heads made by models/training/heads`);
    return { scores: out['scores']!.data as Float32Array, features: features.data as Float32Array, featureDim: features.dims[1]! };
  }

  async dispose(): Promise<void> {
    if (this.base) return;
    await this.session.release();
  }
}

/** A logistic unit's logit of one window's features: bias + weights . features. */
function unitLogit(h: { weights: Float32Array; bias: number }, features: Float32Array): number {
  let z = h.bias;
  for (let k = 0; k < features.length; k++) z += h.weights[k]! * features[k]!;
  return z;
}

/** A compiled head's sigmoid score of one window (its features, and its embeddings if the head reads them). */
export function compiledScore(h: CompiledHead, features: Float32Array, window: Float32Array): number {
  let z = unitLogit(h, features);
  if (h.readsWindow) for (let k = 0, o = features.length; k < window.length; k++) z += h.weights[o + k]! * window[k]!;
  return 1 / (1 + Math.exp(-z));
}

/**
 * Rows of what a compiled head reads: each window's features, then (`withWindow`) its embeddings.
 */
export function headInputs(features: Float32Array, featureDim: number, windows: Float32Array, per: number, n: number, withWindow: boolean): Float32Array {
  if (!withWindow) return features;
  const dim = featureDim + per, out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    out.set(features.subarray(i * featureDim, (i + 1) * featureDim), i * dim);
    out.set(windows.subarray(i * per, (i + 1) * per), i * dim + featureDim);
  }
  return out;
}

const SCORE_EPS = 1e-7;

/** logit of a score, kept finite. */
export function scoreLogit(p: number): number {
  const q = Math.min(1 - SCORE_EPS, Math.max(SCORE_EPS, p));
  return Math.log(q / (1 - q));
}

/** A site head's sigmoid score of one window's features and the factory head's score of it. */
export function siteScore(h: { weights: Float32Array; bias: number; baseWeight: number }, features: Float32Array, baseScore: number): number {
  return 1 / (1 + Math.exp(-(unitLogit(h, features) + h.baseWeight * scoreLogit(baseScore))));
}

/**
 * Windows of `window` embeddings ending at hops `ends` (1-based) of a clip's embeddings `emb`, padded
 * before the clip with `init` as a fresh stream's window is: [ends.length x window x dim].
 */
export function windowsEndingAt(emb: Float32Array, init: Float32Array, window: number, ends: readonly number[]): Float32Array {
  const dim = init.length, out = new Float32Array(ends.length * window * dim);
  ends.forEach((k, w) => {
    for (let j = 0; j < window; j++) {
      const hop = k - window + j; // 0-based embedding index; < 0 is padding
      out.set(hop < 0 ? init : emb.subarray(hop * dim, (hop + 1) * dim), (w * window + j) * dim);
    }
  });
  return out;
}
