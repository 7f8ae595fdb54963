/**
 * Phone error rate of greedy CTC decoding on the held-out TTS voice: the training pipeline's
 * val_tts split when it exists, else SLT sentences labelled with the CMU dictionary.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { DEFAULT_CMUDICT, readCmuDict } from '../../src/kws/g2p.js';
import type { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { mapLimit, repoRoot, round, seededRandom } from '../lib/common.js';
import { GENERAL_SENTENCES, termSentences } from '../lib/sentences.js';
import { synthesize } from '../lib/tts.js';

export interface PerResult {
  source: string;
  utterances: number;
  phones: number;
  errors: number;
  per: number;
}

/** The training pipeline's work folder, as models/training/common.py defaults it: beside the checkout. */
export function defaultValTtsPath(): string {
  return path.join(process.env.GEARHEAR_TRAIN_DIR ?? path.resolve(repoRoot, '..', 'gearhear-train'), 'feats', 'val_tts.json');
}

/** Argmax per frame, repeats collapsed, blanks removed. */
export function greedyDecode(data: Float32Array, frames: number, tokens: number, blank: number): number[] {
  const out: number[] = [];
  let prev = -1;
  for (let t = 0; t < frames; t++) {
    let best = 0;
    for (let k = 1; k < tokens; k++) if (data[t * tokens + k]! > data[t * tokens + best]!) best = k;
    if (best !== prev && best !== blank) out.push(best);
    prev = best;
  }
  return out;
}

export function editDistance(a: readonly number[], b: readonly number[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

interface Labelled { samples: () => Promise<Float32Array>; labels: number[] }

async function valTtsItems(file: string, max: number): Promise<Labelled[]> {
  const index = JSON.parse(await readFile(file, 'utf8')) as Array<{ path: string; labels: number[] }>;
  return index.slice(0, max).map((u) => ({ samples: () => readWavFile(u.path), labels: u.labels }));
}

async function sltItems(model: OnnxAcousticModel, terms: readonly string[], max: number): Promise<Labelled[]> {
  const texts = [...termSentences(terms, Math.ceil(max / 2), seededRandom(5)).map((s) => s.text), ...GENERAL_SENTENCES].slice(0, max);
  const words = new Set(texts.flatMap((t) => t.split(' ')));
  const dict = await readCmuDict(DEFAULT_CMUDICT, words);
  const index = new Map(model.tokens.map((t, i) => [t, i]));
  const out: Labelled[] = [];
  for (const text of texts) {
    const prons = text.split(' ').map((w) => dict.get(w)?.[0]);
    if (prons.some((p) => !p)) continue; // a word outside the dictionary: no trustworthy label
    const labels = prons.flat().map((p) => index.get(p!));
    if (labels.some((l) => l === undefined)) continue;
    out.push({ samples: () => synthesize(text, 'flite:slt'), labels: labels as number[] });
  }
  return out;
}

export async function phoneErrorRate(model: OnnxAcousticModel, terms: readonly string[], max: number, valTts = defaultValTtsPath()): Promise<PerResult> {
  const fromTrain = existsSync(valTts);
  const items = fromTrain ? await valTtsItems(valTts, max) : await sltItems(model, terms, max);
  let phones = 0, errors = 0;
  await mapLimit(items, 1, async (it) => {
    const { data, frames } = await model.run(await it.samples());
    const hyp = greedyDecode(data, frames, model.tokens.length, model.blankIndex);
    errors += editDistance(hyp, it.labels);
    phones += it.labels.length;
  });
  return {
    source: fromTrain ? valTts : 'flite slt sentences, CMU dictionary labels (first pronunciation, stress removed)',
    utterances: items.length, phones, errors, per: round(phones ? errors / phones : NaN, 4),
  };
}
