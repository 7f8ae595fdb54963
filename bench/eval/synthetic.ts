/**
 * Synthetic keyword test: sentences with vocabulary terms and without, spoken by the held-out SLT
 * voice (flite `slt`, optionally festival's SLT HTS voice), over real machine noise at several SNRs;
 * plus pure machine noise.
 */
import type { KeywordSpec } from '../../src/kws/types.js';
import type { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { mapLimit, seededRandom } from '../lib/common.js';
import { NoisePool, readManifest } from '../lib/data.js';
import { generalSentences, termSentences } from '../lib/sentences.js';
import { synthesize, type Voice } from '../lib/tts.js';
import { evaluateStream, type ConditionResult } from './evaluate.js';
import { joinClips, type Clip } from './streams.js';

export interface SyntheticOptions {
  termSentences: number;
  generalSentences: number;
  voices: Voice[];
  /** null = clean. */
  snrs: Array<number | null>;
  noiseMinutes: number;
  thresholds: number[];
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  termSentences: 60, generalSentences: 30, voices: ['flite:slt'], snrs: [null, 20, 10, 5], noiseMinutes: 3, thresholds: [],
};

const SPEECH_RMS = 0.08;

export async function evaluateSynthetic(model: OnnxAcousticModel, specs: readonly KeywordSpec[], terms: readonly string[], o: SyntheticOptions): Promise<ConditionResult[]> {
  const rand = seededRandom(11);
  const withTerms = termSentences(terms, o.termSentences, rand);
  const general = generalSentences(terms, o.generalSentences).map((text) => ({ text, targets: [] as string[], allowed: [] as string[] }));
  const sentences = [...withTerms, ...general].sort(() => rand() - 0.5);
  const jobs = o.voices.flatMap((voice) => sentences.map((s) => ({ s, voice })));
  const clips: Clip[] = await mapLimit(jobs, 2, async ({ s, voice }) => ({ samples: await synthesize(s.text, voice), targets: s.targets, allowed: s.allowed }));
  const noise = await NoisePool.load(await readManifest());
  const results: ConditionResult[] = [];
  for (const snr of o.snrs) {
    const stream = joinClips(clips, { gapSec: 1, speechRms: SPEECH_RMS, snrDb: snr, noise, rand: seededRandom(100 + (snr ?? 99)) });
    results.push(await evaluateStream(`SLT ${snr === null ? 'clean' : `${snr} dB SNR`}`, stream, model, specs, o.thresholds));
  }
  if (o.noiseMinutes > 0) {
    // Pure machine noise in 20 s pieces from different machines, at the level of the 10 dB condition's bed.
    const pieces = Array.from({ length: Math.ceil((o.noiseMinutes * 60) / 20) }, () => ({ samples: noise.cut(20 * 16000, rand).samples, targets: [], allowed: [] }));
    const bed = joinClips(pieces, { gapSec: 0, speechRms: SPEECH_RMS * 10 ** (-10 / 20), snrDb: null });
    results.push(await evaluateStream('machine noise only', { pcm: bed.pcm, spans: [] }, model, specs, o.thresholds));
  }
  return results;
}
