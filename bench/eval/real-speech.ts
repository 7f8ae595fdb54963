/**
 * Real recordings from ../shared/data: word clips (Speech Commands, FSDD digits) spotted with a
 * vocabulary of their labels, sentences spotted with content words of their transcripts, and noise
 * clips run with the shipped vocabulary (false alarms only). Reported per `use` group.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import type { KeywordSpec } from '../../src/kws/types.js';
import type { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { mapLimit, seededRandom } from '../lib/common.js';
import { readManifest, type ManifestRow } from '../lib/data.js';
import { termMatcher } from '../lib/sentences.js';
import { loadVocab } from '../lib/setup.js';
import { evaluateStream, type ConditionResult } from './evaluate.js';
import { joinClips } from './streams.js';

export interface RealSpeechOptions {
  maxWordClips: number;
  maxSentences: number;
  sentenceTerms: number;
  maxNoiseClips: number;
  thresholds: number[];
}

export const REAL_DEFAULTS: RealSpeechOptions = { maxWordClips: 150, maxSentences: 80, sentenceTerms: 60, maxNoiseClips: 40, thresholds: [] };

/** Words too common or too short to be worth spotting in sentences. */
const STOPWORDS = new Set('about after again against their there these those which while would could should other under where being before through because little without people himself herself might never every great first still years'.split(' '));

function sample<T>(xs: readonly T[], n: number, seed: number): T[] {
  const rand = seededRandom(seed);
  return [...xs].sort(() => rand() - 0.5).slice(0, n);
}

/** A throw-away vocabulary file of `terms`; its lexicon is compiled beside it (CMU dictionary, espeak-ng for the rest). */
async function tempVocabulary(terms: readonly string[]): Promise<{ specs: KeywordSpec[]; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-eval-vocab-'));
  const file = path.join(dir, 'eval.txt');
  await writeFile(file, terms.join('\n') + '\n');
  const { specs } = await loadVocab(file);
  return { specs, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function loadClips(rows: readonly ManifestRow[], targetsOf: (r: ManifestRow) => { targets: string[]; allowed: string[] }) {
  return mapLimit(rows, 4, async (r) => ({ samples: await readWavFile(r.file), ...targetsOf(r) }));
}

export async function evaluateRealSpeech(model: OnnxAcousticModel, shippedSpecs: readonly KeywordSpec[], o: RealSpeechOptions): Promise<ConditionResult[]> {
  const rows = await readManifest();
  const results: ConditionResult[] = [];
  const uses = ['train+eval', 'eval-only'] as const;

  const words = rows.filter((r) => r.kind === 'word');
  const labels = [...new Set(words.map((r) => r.text.trim().toLowerCase()))].sort();
  const wordVocab = await tempVocabulary(labels);
  try {
    for (const use of uses) {
      const picked = sample(words.filter((r) => r.use === use), o.maxWordClips, 21);
      if (picked.length === 0) continue;
      const clips = await loadClips(picked, (r) => ({ targets: [r.text.trim().toLowerCase()], allowed: [r.text.trim().toLowerCase()] }));
      const stream = joinClips(clips, { gapSec: 0.5, speechRms: null, snrDb: null });
      results.push(await evaluateStream(`words ${use} (${labels.length} labels)`, stream, model, wordVocab.specs, o.thresholds));
    }
  } finally {
    await wordVocab.remove();
  }

  const sentences = rows.filter((r) => r.kind === 'sentence');
  const counts = new Map<string, number>();
  for (const r of sentences) for (const w of new Set(r.text.split(/\s+/))) if (w.length >= 6 && !STOPWORDS.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const sentenceTerms = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, o.sentenceTerms).map(([w]) => w);
  const matcher = termMatcher(sentenceTerms);
  const sentVocab = await tempVocabulary(sentenceTerms);
  try {
    for (const use of uses) {
      const picked = sample(sentences.filter((r) => r.use === use), o.maxSentences, 22);
      if (picked.length === 0) continue;
      const clips = await loadClips(picked, (r) => { const t = matcher.termsIn(r.text); return { targets: t, allowed: t }; });
      const stream = joinClips(clips, { gapSec: 0.5, speechRms: null, snrDb: null });
      results.push(await evaluateStream(`sentences ${use} (${sentenceTerms.length} words)`, stream, model, sentVocab.specs, o.thresholds));
    }
  } finally {
    await sentVocab.remove();
  }

  for (const use of uses) {
    // Two tumult clips have distant voices in them: not fair as negatives.
    const picked = sample(rows.filter((r) => r.kind === 'noise' && r.use === use && !/machine09|world1/.test(r.path)), o.maxNoiseClips, 23);
    if (picked.length === 0) continue;
    const clips = await loadClips(picked, () => ({ targets: [], allowed: [] }));
    const stream = joinClips(clips, { gapSec: 0.5, speechRms: null, snrDb: null });
    results.push(await evaluateStream(`noise clips ${use} (shipped vocabulary)`, stream, model, shippedSpecs, o.thresholds));
  }
  return results;
}
