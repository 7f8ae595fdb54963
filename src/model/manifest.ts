import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export type ModelVariant = 'fp32' | 'int8';

export interface VariantInfo {
  file: string;
  sha256: string;
  bytes: number;
  parameters?: number;
}

/** One recurrent cache of the streaming graph: fed back from `output` to `input` on the next call. */
export interface StreamingState {
  input: string;
  output: string;
  shape: number[];
}

/**
 * The streaming graph (optional): explicit caches instead of re-computed context. A call takes the
 * samples of m new frames a .. a + m - 1 plus `tailSamples`, the caches, and `mask`: m + delayFrames
 * values, 1 where frame a - delayFrames + i lies inside the segment; it returns m frames that lag
 * the input by `delayFrames`, and the new caches.
 */
export interface StreamingGraph {
  delayFrames: number;
  tailSamples: number;
  mask: string;
  states: StreamingState[];
  variants: Partial<Record<ModelVariant, VariantInfo>>;
}

/** `models/<id>/model.json`: everything the runner needs to know about the ONNX graph. */
export interface ModelManifest {
  schema: 1;
  id: string;
  version: string;
  sampleRate: 16000;
  input: { name: string; dtype: 'float32' };
  output: { name: string; dtype: 'float32'; kind: 'log-softmax' };
  /** Input samples per output frame. */
  frameShiftSamples: number;
  /** Output frames of past / future context an output frame depends on (for exact chunking). */
  context: { leftFrames: number; rightFrames: number };
  /** Samples of the analysis window of the front end (no output frame before this many samples). */
  windowSamples: number;
  hopSamples: number;
  subsample: number;
  tokens: string[];
  blank: number;
  variants: Partial<Record<ModelVariant, VariantInfo>>;
  defaultVariant: ModelVariant;
  streaming?: StreamingGraph;
}

export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
}

/**
 * The JSON manifest `file` of a model part (`what`: "term heads", ...); a missing or unparsable one is
 * a ModelLoadError ending with `remedy`.
 */
export async function readPartManifest<T>(what: string, file: string, remedy: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (cause) {
    throw new ModelLoadError(`${what}: cannot read ${file}: ${(cause as Error).message}; ${remedy}`, { cause });
  }
}

/** The bytes of `file` (named by the manifest `namedBy`), checked against the SHA-256 the manifest gives. */
export async function readVerifiedPart(what: string, file: string, namedBy: string, sha256: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new ModelLoadError(`${what}: ${file} (named by ${namedBy}) cannot be read: ${(cause as Error).message}`, { cause });
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== sha256) {
    throw new ModelLoadError(`${what}: ${file} has SHA-256 ${sha}, but ${namedBy} says ${sha256}: the file is damaged or replaced; reinstall it`);
  }
  return bytes;
}

function fail(file: string, what: string): never {
  throw new ModelLoadError(`model manifest ${file}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and validates `<dir>/model.json`. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelLoadError(`cannot read model manifest ${file}: ${(err as Error).message}. ` +
      'Point model.dir (GEARHEAR_MODEL) at a folder with model.json, e.g. models/gearhear-kws', { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelLoadError(`model manifest ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(raw)) fail(file, 'expected a JSON object');
  if (raw.schema !== 1) fail(file, `unsupported schema ${String(raw.schema)} (this gearhear reads schema 1)`);
  for (const key of ['id', 'version'] as const) {
    if (typeof raw[key] !== 'string' || !raw[key]) fail(file, `"${key}" must be a non-empty string`);
  }
  if (raw.sampleRate !== 16000) fail(file, `sampleRate must be 16000, got ${String(raw.sampleRate)}`);
  for (const key of ['frameShiftSamples', 'windowSamples', 'hopSamples', 'subsample', 'blank'] as const) {
    if (!Number.isInteger(raw[key]) || (raw[key] as number) < 0) fail(file, `"${key}" must be a non-negative integer`);
  }
  const ctx = raw.context;
  if (!isObject(ctx) || !Number.isInteger(ctx.leftFrames) || !Number.isInteger(ctx.rightFrames)) {
    fail(file, '"context" must be {leftFrames, rightFrames} integers');
  }
  if (!Array.isArray(raw.tokens) || raw.tokens.length < 2 || !raw.tokens.every((t) => typeof t === 'string')) {
    fail(file, '"tokens" must be a list of strings');
  }
  if ((raw.blank as number) >= raw.tokens.length) fail(file, '"blank" is not an index into "tokens"');
  if (!isObject(raw.input) || typeof raw.input.name !== 'string') fail(file, '"input.name" missing');
  if (!isObject(raw.output) || typeof raw.output.name !== 'string') fail(file, '"output.name" missing');
  if (!isObject(raw.variants) || Object.keys(raw.variants).length === 0) fail(file, '"variants" must list fp32 and/or int8');
  checkVariants(file, raw.variants, 'variants');
  if (raw.defaultVariant !== 'fp32' && raw.defaultVariant !== 'int8') fail(file, '"defaultVariant" must be fp32 or int8');
  if (raw.streaming !== undefined) checkStreaming(file, raw.streaming);
  return raw as unknown as ModelManifest;
}

function checkVariants(file: string, variants: Record<string, unknown>, where: string): void {
  for (const [name, v] of Object.entries(variants)) {
    if (name !== 'fp32' && name !== 'int8') fail(file, `unknown variant "${name}" in "${where}" (allowed: fp32, int8)`);
    if (!isObject(v) || typeof v.file !== 'string' || typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256)) {
      fail(file, `variant "${name}" in "${where}" needs "file" and a hex "sha256"`);
    }
  }
}

function checkStreaming(file: string, s: unknown): void {
  if (!isObject(s)) fail(file, '"streaming" must be an object');
  for (const key of ['delayFrames', 'tailSamples'] as const) {
    if (!Number.isInteger(s[key]) || (s[key] as number) < 0) fail(file, `"streaming.${key}" must be a non-negative integer`);
  }
  if (typeof s.mask !== 'string') fail(file, '"streaming.mask" must name a graph input');
  const states = s.states;
  const goodState = (st: unknown): boolean => isObject(st) && typeof st.input === 'string' && typeof st.output === 'string' &&
    Array.isArray(st.shape) && st.shape.length > 0 && st.shape.every((d) => Number.isInteger(d) && (d as number) >= 0);
  if (!Array.isArray(states) || !states.every(goodState)) fail(file, '"streaming.states" must be a list of {input, output, shape}');
  if (!isObject(s.variants) || Object.keys(s.variants).length === 0) fail(file, '"streaming.variants" must list fp32 and/or int8');
  checkVariants(file, s.variants, 'streaming.variants');
}

/** Reads a variant's ONNX file (of the whole-segment graph, or of the streaming graph) and checks its SHA-256. */
export async function readVerifiedModelFile(dir: string, manifest: ModelManifest, variant: ModelVariant, graph: 'whole' | 'streaming' = 'whole'): Promise<Uint8Array> {
  const variants = graph === 'whole' ? manifest.variants : manifest.streaming?.variants ?? {};
  const info = variants[variant];
  if (!info) {
    const have = Object.keys(variants).join(', ') || 'none';
    const what = graph === 'whole' ? `"${variant}" variant` : `streaming graph for "${variant}"`;
    const fix = graph === 'whole' ? 'set model.variant accordingly' : 'set model.streaming to recompute, or model.variant to one it has';
    throw new ModelLoadError(`model ${manifest.id} in ${dir} has no ${what} (it has: ${have}); ${fix}`);
  }
  const file = path.join(dir, info.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ModelLoadError(`cannot read model file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== info.sha256) {
    throw new ModelLoadError(`model file ${file} is corrupt or was replaced: SHA-256 ${sha} does not match ` +
      `${info.sha256} in model.json. Restore it from the release (git checkout ${path.join(dir, info.file)}) or reinstall.`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
