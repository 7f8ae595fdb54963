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
}

export class ModelLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelLoadError';
  }
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
  for (const [name, v] of Object.entries(raw.variants)) {
    if (name !== 'fp32' && name !== 'int8') fail(file, `unknown variant "${name}" (allowed: fp32, int8)`);
    if (!isObject(v) || typeof v.file !== 'string' || typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256)) {
      fail(file, `variant "${name}" needs "file" and a hex "sha256"`);
    }
  }
  if (raw.defaultVariant !== 'fp32' && raw.defaultVariant !== 'int8') fail(file, '"defaultVariant" must be fp32 or int8');
  return raw as unknown as ModelManifest;
}

/** Reads a variant's ONNX file and checks its SHA-256 against the manifest. */
export async function readVerifiedModelFile(dir: string, manifest: ModelManifest, variant: ModelVariant): Promise<Uint8Array> {
  const info = manifest.variants[variant];
  if (!info) {
    const have = Object.keys(manifest.variants).join(', ');
    throw new ModelLoadError(`model ${manifest.id} in ${dir} has no "${variant}" variant (it has: ${have}); set model.variant accordingly`);
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
