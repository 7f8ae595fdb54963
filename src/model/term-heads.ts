import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from './ort.js';
import { ModelLoadError } from './manifest.js';
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

/** The term heads: the last `window` embeddings in, one sigmoid score per term out. */
export class TermHeads {
  private compute = 0;
  readonly termIndex: ReadonlyMap<string, number>;

  private constructor(readonly manifest: HeadsManifest, private readonly session: ort.InferenceSession, readonly dir: string) {
    this.termIndex = new Map(manifest.terms.map((t, i) => [t.term, i]));
  }

  static async load(dir: string, threads = 1): Promise<TermHeads> {
    const file = path.join(dir, HEADS_MANIFEST);
    let manifest: HeadsManifest;
    try {
      manifest = JSON.parse(await readFile(file, 'utf8')) as HeadsManifest;
    } catch (cause) {
      throw new ModelLoadError(`term heads: cannot read ${file}: ${(cause as Error).message}; set model.headsDir to a folder with heads.json, or model.detector=phones`, { cause });
    }
    if (!Array.isArray(manifest.terms) || manifest.terms.length === 0 || manifest.dim !== EMBEDDING_DIM || !(manifest.window > 0)) {
      throw new ModelLoadError(`term heads: ${file} must list terms, dim ${EMBEDDING_DIM} and a window > 0`);
    }
    const onnx = path.join(dir, manifest.file);
    let bytes: Buffer;
    try {
      bytes = await readFile(onnx);
    } catch (cause) {
      throw new ModelLoadError(`term heads: ${onnx} (named by ${file}) cannot be read: ${(cause as Error).message}`, { cause });
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== manifest.sha256) {
      throw new ModelLoadError(`term heads: ${onnx} has SHA-256 ${sha}, but ${file} says ${manifest.sha256}: the file is damaged or replaced; reinstall it`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
    } catch (cause) {
      throw new ModelLoadError(`term heads: onnxruntime could not load ${onnx}: ${(cause as Error).message}`, { cause });
    }
    return new TermHeads(manifest, session, dir);
  }

  get computeSeconds(): number {
    return this.compute;
  }

  /** Scores of `n` windows laid end to end ([n x window x 96]): [n x terms]. */
  async score(windows: Float32Array, n: number): Promise<Float32Array> {
    const t0 = performance.now();
    const out = await this.session.run({ embeddings: new ort.Tensor('float32', windows, [n, this.manifest.window, this.manifest.dim]) });
    this.compute += (performance.now() - t0) / 1000;
    return out['scores']!.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
