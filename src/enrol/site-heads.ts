/**
 * `<state.dir>/site-heads.json`: the heads `gearhear adapt` refitted on a site's own takes, each
 * stacked on a term's factory head (shipped or compiled; see SiteHead). `run` and `detect` use it
 * with model.detector = heads; deleting it restores the factory heads. A file made for other heads
 * (another model, or other compiled heads for its terms) is refused with what to do.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SiteHead, TermHeads } from '../model/term-heads.js';
import { writeFileAtomic } from '../durable-file.js';
import { readJsonFile } from '../json-file.js';

export const SITE_HEADS_FILE = 'site-heads.json';
export const SITE_HEADS_FORMAT = 'gearhear-site-heads/1';

/** What the guard measured for one term (held-out takes and held-out negatives). */
export interface GuardFigures {
  heldOutTakes: number;
  recallBefore: number;
  recallAfter: number;
  negativeHours: number;
  faPerHourBefore: number;
  faPerHourAfter: number;
  /** In the median take, how many unrelated terms the factory heads score higher (is it the term at all?). */
  takesRank: number;
  /** How far (logits) the bias was lowered beyond its margin after too many held-out false alarms (0: not; absent in older files). */
  biasLoweredBy?: number;
}

export interface SiteTermEntry {
  term: string;
  /** SHA-256 of the factory head this one stands on (its column's weights; shipped: the model's). */
  baseSha256: string;
  bias: number;
  baseWeight: number;
  weights: number[];
  takes: number;
  speakers: string[];
  trueClips: number;
  falseClips: number;
  positives: number;
  negatives: number;
  guard: GuardFigures;
  seconds: number;
  adaptedAt: string;
}

export interface SiteHeadsFile {
  format: string;
  heads: { id: string; version: string; sha256: string };
  embedding: string;
  scorePivot: number;
  featureDim: number;
  terms: SiteTermEntry[];
}

export class SiteHeadsError extends Error {
  override name = 'SiteHeadsError';
}

export function siteHeadsPath(stateDir: string): string {
  return path.join(stateDir, SITE_HEADS_FILE);
}

/** The file's SHA-256 (what `info` names), or null when there is none. */
export async function siteHeadsSha256(file: string): Promise<string | null> {
  const bytes = await readFile(file).catch(() => null);
  return bytes ? createHash('sha256').update(bytes).digest('hex') : null;
}

/** The file as written, or null when there is none; SiteHeadsError naming the file when damaged. */
export async function readSiteHeadsFile(file: string): Promise<SiteHeadsFile | null> {
  const f = await readJsonFile(file, (problem, err) => new SiteHeadsError(problem === 'unreadable'
    ? `${file}: cannot read site heads: ${err.message}`
    : `${file}: not JSON (${err.message}); delete it to use the factory heads, or run gearhear adapt`, { cause: err })) as SiteHeadsFile | null;
  if (f === null) return null;
  const ok = f && f.format === SITE_HEADS_FORMAT && typeof f.heads?.sha256 === 'string' && Array.isArray(f.terms)
    && f.terms.every((t) => typeof t.term === 'string' && Array.isArray(t.weights) && t.weights.length === f.featureDim && [t.bias, t.baseWeight, ...t.weights].every(Number.isFinite));
  if (!ok) throw new SiteHeadsError(`${file}: not a ${SITE_HEADS_FORMAT} file with finite weights for every term; delete it to use the factory heads, or run gearhear adapt`);
  return f;
}

/** Written whole or not at all, owner-only whatever the umask (writeFileAtomic). */
export async function writeSiteHeadsFile(file: string, f: SiteHeadsFile): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(f) + '\n');
}

/** SHA-256 of the factory head of `term` in `heads` (a compiled head's weights, or the shipped model). */
export function factoryHeadSha256(heads: TermHeads, term: string): string {
  return createHash('sha256').update(heads.manifest.sha256).update(`\n${term}\n`).update(heads.compiledHeadDigest(term)).digest('hex');
}

/**
 * The site heads in `file` that fit `heads` (the factory heads, with the vocabulary's compiled ones):
 * none without a file. Site heads for terms these heads do not score are skipped and named in
 * `skipped`; a term whose factory head changed since adapt is skipped too (run gearhear adapt again).
 */
export async function loadSiteHeads(file: string, heads: TermHeads, embedding: string): Promise<{ site: SiteHead[]; skipped: string[]; sha256: string | null }> {
  const f = await readSiteHeadsFile(file);
  if (!f) return { site: [], skipped: [], sha256: null };
  const redo = `run gearhear adapt again, or delete ${file} to use the factory heads`;
  if (f.heads.sha256 !== heads.manifest.sha256) {
    throw new SiteHeadsError(`${file} was adapted for term heads ${f.heads.id} ${f.heads.version} (${f.heads.sha256.slice(0, 12)}), but ${heads.manifest.id} ${heads.manifest.version} (${heads.manifest.sha256.slice(0, 12)}) is loaded; ${redo}`);
  }
  if (f.terms.length > 0 && f.embedding !== embedding) {
    throw new SiteHeadsError(`${file} was adapted on the ${f.embedding} speech embedding, but model.embedding is ${embedding}; set model.embedding=${f.embedding}, or ${redo}`);
  }
  const site: SiteHead[] = [], skipped: string[] = [];
  for (const t of f.terms) {
    if (!heads.termIndex.has(t.term) || factoryHeadSha256(heads, t.term) !== t.baseSha256) {
      skipped.push(t.term);
      continue;
    }
    site.push({ term: t.term, bias: t.bias, baseWeight: t.baseWeight, weights: Float32Array.from(t.weights) });
  }
  return { site, skipped, sha256: await siteHeadsSha256(file) };
}
