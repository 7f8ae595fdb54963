/** What every benchmark loads: the model and the vocabulary, plus a description of the machine. */
import os from 'node:os';
import path from 'node:path';
import { loadKeywords, type LoadedKeywords } from '../../src/kws/load.js';
import { SCHEMA } from '../../src/config/schema.js';
import { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import type { ModelVariant } from '../../src/model/manifest.js';
import { repoRoot } from './common.js';

export const DEFAULT_MODEL_DIR = path.join(repoRoot, 'models/gearhear-kws');
export const DEFAULT_VOCAB = path.join(repoRoot, 'vocab/mechanical-en.txt');

export function parseVariant(v: string | undefined): ModelVariant | undefined {
  if (v === undefined) return undefined;
  if (v !== 'int8' && v !== 'fp32') throw new Error(`--variant must be int8 or fp32, got "${v}"`);
  return v;
}

export function parseNumber(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

/** The model on one intra-op thread, as the daemon runs it. */
export async function loadModel(dir: string, variant?: ModelVariant): Promise<OnnxAcousticModel> {
  return OnnxAcousticModel.load({ dir, variant, intraOpThreads: 1 });
}

export async function loadVocab(vocabPath: string, threshold = Number(SCHEMA.kws.threshold.default)): Promise<LoadedKeywords> {
  return loadKeywords(vocabPath, { defaults: { threshold, boost: 0 }, compileIfMissing: true });
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`,
    memTotalMb: Math.round(os.totalmem() / 1048576), loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function modelInfo(m: OnnxAcousticModel, dir: string): Record<string, unknown> {
  return { dir, id: m.id, version: m.version, variant: m.variant, sha256: m.sha256.slice(0, 12), parameters: m.manifest.variants[m.variant]?.parameters ?? null };
}
