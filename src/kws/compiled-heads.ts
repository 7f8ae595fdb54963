/**
 * `<vocab>.heads.json`: heads fitted by `gearhear vocab compile` for vocabulary terms the shipped
 * term heads lack (see head-compile.ts). Read by the daemon and `detect` beside the vocabulary; a
 * file made for other heads is refused with the command that remakes it.
 */
import { readJsonFile } from '../json-file.js';
import { vocabularySibling } from './lexicon.js';
import type { CompiledHead, TermHeads } from '../model/term-heads.js';

export const COMPILED_HEADS_FORMAT = 'gearhear-compiled-heads/1';
/** The embedding compiled heads are fitted on: the negative bank holds its embeddings. */
export const COMPILED_EMBEDDING = 'google';

export interface CompiledTermEntry {
  term: string;
  durationSec: number;
  bias: number;
  weights: number[];
  clips: number;
  /** Occurrences of the term found in the real speech corpus (`--real-speech`); each gave two of the clips. */
  realOccurrences?: number;
  /** Occurrences made from real phones of the corpus (`--real-speech`, terms said too few times whole). */
  realPieces?: number;
  positives: number;
  negatives: number;
  /** How far the bias was lowered so held-out real speech stays below the pivot. */
  biasLoweredBy: number;
  /** Share of the synthesised positive windows at or above the pivot (not a real-speech figure). */
  synthRecallAtPivot: number;
  seconds: number;
}

export interface CompiledHeadsFile {
  format: string;
  heads: { id: string; version: string; sha256: string };
  vocabulary: string;
  /** The speech embedding the heads were fitted on (model.embedding); absent in older files: google. */
  embedding?: string;
  scorePivot: number;
  clipsPerTerm: number;
  /** The synthesisers and voices used (absent in older files: espeak-ng alone, as they were made). */
  voices?: string[];
  /** The real speech corpus the positives also came from (`vocab compile --real-speech`). */
  realSpeech?: { manifest: string; utterances: number; perTerm: number; units?: string; negativeMinutes?: number };
  /** What each head reads: the shipped heads' features (absent: features only), then the window's embeddings. */
  inputs?: 'features+window';
  /** The detector's patience the bias was set for (absent: 1). */
  patienceHops?: number;
  /** Weights per head: the shipped heads' feature count, plus window x dim with `inputs` features+window. */
  featureDim: number;
  terms: CompiledTermEntry[];
}

export function compiledHeadsPathFor(vocabPath: string): string {
  return vocabularySibling(vocabPath, '.heads.json');
}

export class CompiledHeadsError extends Error {
  override name = 'CompiledHeadsError';
}

/** The file as written, or null when there is none. Throws CompiledHeadsError naming the file. */
export async function readCompiledHeadsFile(file: string): Promise<CompiledHeadsFile | null> {
  const f = await readJsonFile(file, (problem, err) => new CompiledHeadsError(problem === 'unreadable'
    ? `${file}: cannot read compiled heads: ${err.message}`
    : `${file}: not JSON (${err.message})`, { cause: err })) as CompiledHeadsFile | null;
  if (f === null) return null;
  const ok = f && f.format === COMPILED_HEADS_FORMAT && typeof f.heads?.sha256 === 'string' && Array.isArray(f.terms)
    && f.terms.every((t) => typeof t.term === 'string' && Array.isArray(t.weights) && t.weights.length === f.featureDim && Number.isFinite(t.bias) && t.weights.every(Number.isFinite));
  if (!ok) throw new CompiledHeadsError(`${file}: not a ${COMPILED_HEADS_FORMAT} file with finite weights of its featureDim for every term`);
  return f;
}

/**
 * The compiled heads for `vocabPath` that fit `heads`, ready for `heads.useCompiled`. No file: none.
 * A file for other heads (or unreadable) is an error that says how to remake it.
 */
export async function loadCompiledHeads(vocabPath: string, heads: TermHeads, embedding: string, file = compiledHeadsPathFor(vocabPath)): Promise<CompiledHead[]> {
  const remake = `run: gearhear vocab compile ${vocabPath}`;
  let f: CompiledHeadsFile | null;
  try {
    f = await readCompiledHeadsFile(file);
  } catch (err) {
    throw new CompiledHeadsError(`${(err as Error).message}; ${remake}`, { cause: err });
  }
  if (!f) return [];
  if (f.heads.sha256 !== heads.manifest.sha256) {
    throw new CompiledHeadsError(`${file} was compiled for term heads ${f.heads.id} ${f.heads.version} (${f.heads.sha256.slice(0, 12)}), but ${heads.manifest.id} ${heads.manifest.version} (${heads.manifest.sha256.slice(0, 12)}) is loaded; ${remake}`);
  }
  if (f.terms.length > 0 && (f.embedding ?? COMPILED_EMBEDDING) !== embedding) {
    throw new CompiledHeadsError(`${file} was fitted on the ${f.embedding ?? COMPILED_EMBEDDING} speech embedding, but model.embedding is ${embedding}; set model.embedding=${f.embedding ?? COMPILED_EMBEDDING}, or remove the file to detect those terms with the phone model`);
  }
  const readsWindow = f.inputs === 'features+window';
  const featureDim = (await heads.run(new Float32Array(heads.manifest.window * heads.manifest.dim), 1)).featureDim + (readsWindow ? heads.manifest.window * heads.manifest.dim : 0);
  if (f.terms.length > 0 && f.featureDim !== featureDim) throw new CompiledHeadsError(`${file}: ${f.featureDim} weights per head, the loaded heads need ${featureDim}; ${remake}`);
  return f.terms.map((t) => ({ term: t.term, durationSec: t.durationSec, bias: t.bias, weights: Float32Array.from(t.weights), ...(readsWindow ? { readsWindow } : {}) }));
}
