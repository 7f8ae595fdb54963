/**
 * `node dist/bench/model-eval.js [--model DIR] [--variant int8|fp32] [--threshold 0.3..0.8]`: the
 * figures of the model card, with the keyword search the daemon uses. Prints tables; writes JSON to
 * bench/results/model-eval-<id>-<variant>-<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, repoRoot, round, seededRandom } from './lib/common.js';
import { NoisePool, readManifest } from './lib/data.js';
import { DEFAULT_MODEL_DIR, DEFAULT_VOCAB, loadModel, loadVocab, machineInfo, modelInfo, parseNumber, parseVariant } from './lib/setup.js';
import { joinClips } from './eval/streams.js';
import { parseThresholds, type ConditionResult } from './eval/evaluate.js';
import { defaultValTtsPath, phoneErrorRate } from './eval/per.js';
import { evaluateRealSpeech, REAL_DEFAULTS } from './eval/real-speech.js';
import { measureModelSpeed } from './eval/speed.js';
import { evaluateSynthetic, SYNTHETIC_DEFAULTS } from './eval/synthetic.js';
import { synthesize, type Voice } from './lib/tts.js';

const USAGE = `node dist/bench/model-eval.js [options]
  --model DIR            model folder with model.json (default models/gearhear-kws)
  --variant int8|fp32    default: the manifest's defaultVariant
  --vocab FILE           vocabulary for the synthetic test and noise clips (default vocab/mechanical-en.txt)
  --threshold SPEC       also score every term at these thresholds: 0.3..0.8, 0.3..0.8:0.05 or 0.4,0.5
  --term-sentences N     SLT sentences with terms (default ${SYNTHETIC_DEFAULTS.termSentences})
  --general-sentences N  SLT sentences without terms (default ${SYNTHETIC_DEFAULTS.generalSentences})
  --festival             also the festival SLT HTS voice (slower to synthesise)
  --snr LIST             SNRs in dB, "clean" for none (default clean,20,10,5)
  --noise-minutes N      pure machine noise (default ${SYNTHETIC_DEFAULTS.noiseMinutes})
  --max-word-clips N --max-sentences N --sentence-terms N --max-noise-clips N   caps for the real recordings
  --per-max N            utterances for the phone error rate (default 100); val_tts.json: $GEARHEAR_TRAIN_DIR/feats
  --skip LIST            comma list of: synthetic,real,speed,per
  --out FILE             JSON output (default bench/results/model-eval-<id>-<variant>-<time>.json)`;

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      model: { type: 'string' }, variant: { type: 'string' }, vocab: { type: 'string' }, threshold: { type: 'string' },
      'term-sentences': { type: 'string' }, 'general-sentences': { type: 'string' }, festival: { type: 'boolean' }, snr: { type: 'string' },
      'noise-minutes': { type: 'string' }, 'max-word-clips': { type: 'string' }, 'max-sentences': { type: 'string' },
      'sentence-terms': { type: 'string' }, 'max-noise-clips': { type: 'string' }, 'per-max': { type: 'string' }, skip: { type: 'string' },
      out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help) { process.stdout.write(USAGE + '\n'); return 0; }
  const modelDir = path.resolve(a.model ?? DEFAULT_MODEL_DIR);
  const vocabPath = path.resolve(a.vocab ?? DEFAULT_VOCAB);
  const thresholds = parseThresholds(a.threshold);
  const skip = new Set((a.skip ?? '').split(',').filter(Boolean));
  const model = await loadModel(modelDir, parseVariant(a.variant));
  const vocab = await loadVocab(vocabPath);
  const terms = vocab.vocab.terms.map((t) => t.term);
  const log = (s: string): void => void process.stderr.write(`model-eval: ${s}\n`);
  const results: Record<string, unknown> = { date: new Date().toISOString(), machine: machineInfo(), model: modelInfo(model, modelDir), vocabulary: { file: vocabPath, terms: terms.length }, thresholds };
  const conditions: ConditionResult[] = [];

  if (!skip.has('synthetic')) {
    const voices: Voice[] = a.festival ? ['flite:slt', 'festival:slt'] : ['flite:slt'];
    const snrs = (a.snr ?? 'clean,20,10,5').split(',').map((s) => (s === 'clean' ? null : parseNumber('snr', s, 0)));
    log(`synthetic: SLT (${voices.join(', ')}) at ${snrs.map((s) => s ?? 'clean').join(', ')}`);
    const synthetic = await evaluateSynthetic(model, vocab.specs, terms, {
      termSentences: parseNumber('term-sentences', a['term-sentences'], SYNTHETIC_DEFAULTS.termSentences),
      generalSentences: parseNumber('general-sentences', a['general-sentences'], SYNTHETIC_DEFAULTS.generalSentences),
      voices, snrs, noiseMinutes: parseNumber('noise-minutes', a['noise-minutes'], SYNTHETIC_DEFAULTS.noiseMinutes), thresholds,
    });
    results.synthetic = synthetic;
    conditions.push(...synthetic);
  }
  if (!skip.has('real')) {
    log('real recordings from the shared data');
    const real = await evaluateRealSpeech(model, vocab.specs, {
      maxWordClips: parseNumber('max-word-clips', a['max-word-clips'], REAL_DEFAULTS.maxWordClips),
      maxSentences: parseNumber('max-sentences', a['max-sentences'], REAL_DEFAULTS.maxSentences),
      sentenceTerms: parseNumber('sentence-terms', a['sentence-terms'], REAL_DEFAULTS.sentenceTerms),
      maxNoiseClips: parseNumber('max-noise-clips', a['max-noise-clips'], REAL_DEFAULTS.maxNoiseClips), thresholds,
    });
    results.realSpeech = real;
    conditions.push(...real);
  }
  if (!skip.has('speed')) {
    log('model speed on 30 s of audio');
    results.speed = await measureModelSpeed(model, modelDir, await thirtySeconds());
  }
  if (!skip.has('per')) {
    log(`phone error rate (${defaultValTtsPath()} if present)`);
    results.phoneErrorRate = await phoneErrorRate(model, terms, parseNumber('per-max', a['per-max'], 100));
  }
  await model.dispose();

  const m = results.model as { id: string; version: string; variant: string };
  const outFile = a.out ? path.resolve(a.out) : path.join(repoRoot, 'bench/results', `model-eval-${m.id}-${m.variant}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(report(results, conditions, thresholds) + `\nResults: ${path.relative(process.cwd(), outFile)}\n`);
  return 0;
}

/** 30 s of speech over machine noise (SLT sentences), for the speed figure. */
async function thirtySeconds(): Promise<Float32Array> {
  const clips = await Promise.all(['the pump bearing is overheating', 'the weather was lovely on saturday afternoon', 'there is an oil leak under the gearbox']
    .map(async (t) => ({ samples: await synthesize(t, 'flite:slt'), targets: [], allowed: [] })));
  const noise = await NoisePool.load(await readManifest(), 4);
  const one = joinClips(clips, { gapSec: 0.5, speechRms: 0.08, snrDb: 10, noise, rand: seededRandom(3) }).pcm;
  const out = new Float32Array(30 * 16000);
  for (let i = 0; i < out.length; i++) out[i] = one[i % one.length]!;
  return out;
}

function report(r: Record<string, unknown>, conditions: ConditionResult[], thresholds: number[]): string {
  const m = r.model as { id: string; version: string; variant: string; parameters: number | null };
  const parts = [`model-eval: ${m.id} ${m.version} (${m.variant}), ${m.parameters ?? '?'} parameters, search as in the daemon`];
  if (conditions.length) {
    parts.push(formatTable([
      ['condition', 'audio min', 'targets', 'hits', 'recall', 'false alarms', 'FA/h'],
      ...conditions.map((c) => [c.name, round(c.audioSec / 60, 1), c.configured.targets, c.configured.hits, c.configured.targets ? round(c.configured.recall, 3) : '-', c.configured.falseAlarms, round(c.configured.falseAlarmsPerHour, 1)]),
    ]));
  }
  if (thresholds.length && conditions.length) {
    parts.push('threshold sweep (every term at the threshold): recall / FA/h\n' + formatTable([
      ['condition', ...thresholds.map(String)],
      ...conditions.map((c) => [c.name, ...c.sweep.map((s) => `${c.configured.targets ? round(s.recall, 2) : '-'} / ${round(s.falseAlarmsPerHour, 0)}`)]),
    ]));
  }
  const speed = r.speed as { rtf: number; audioSec: number; fileMb: number; stream: { mode: string; rtf: number } } | undefined;
  if (speed) parts.push(`model only, 1 thread: RTF ${speed.rtf} on ${speed.audioSec} s (median of 5), streamed (${speed.stream.mode}) ${speed.stream.rtf}; file ${speed.fileMb} MB`);
  const per = r.phoneErrorRate as { per: number; utterances: number; phones: number; source: string } | undefined;
  if (per) parts.push(`phone error rate (greedy): ${round(per.per * 100, 1)}% over ${per.utterances} utterances, ${per.phones} phones (${per.source})`);
  return parts.join('\n\n') + '\n';
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`model-eval: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
