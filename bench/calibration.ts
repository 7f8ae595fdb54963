/**
 * Site calibration, measured (`npm run bench:calibration`, README "Site calibration"): real read
 * speech in which no vocabulary term is said (../shared/data sentences and ../shared/train-speech
 * utterances whose transcripts hold no term), split into two halves by alternating utterances.
 * Calibrate on one half at R false alarms per hour per term, run the detector with those
 * thresholds on the other half, and the other way round; compare with the vocabulary's own
 * thresholds on the same half. Recall cost on synthesised speech with the terms (flite/espeak).
 *
 * Options: --minutes N (total real speech, default 60), --target R (default 1), --recall-minutes N
 * (default 5; 0 skips), --seed N. Results: bench/results/calibration-*.json and a table on stdout.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { detectSamples } from '../src/listen/detect-audio.js';
import { OccurrenceLog, OccurrenceTail, type ScoreTail } from '../src/calibration/occurrences.js';
import { readRecording } from '../src/calibration/recordings.js';
import { CALIBRATION_FLOOR, chooseThresholds } from '../src/calibration/thresholds.js';
import type { KeywordSpec } from '../src/kws/types.js';
import { termWords } from '../src/kws/vocabulary.js';
import type { OnnxAcousticModel } from '../src/model/onnx-model.js';
import { formatTable, repoRoot, round, seededRandom } from './lib/common.js';
import { readManifest } from './lib/data.js';
import { buildRecording, readRecordingSamples } from './lib/recording.js';
import { scoreDetections } from './lib/scoring.js';
import { DEFAULT_MODEL_DIR, DEFAULT_VOCAB, loadModel, loadVocab } from './lib/setup.js';

const TRAIN_SPEECH = path.resolve(repoRoot, '../shared/train-speech');
const REFRACTORY_SEC = 1;

interface Utt { file: string; text: string; durationSec: number; source: string }

/** Real utterances without any term (whole-word phrase match on the transcript). */
async function negatives(specs: readonly KeywordSpec[], minutes: number, seed: number): Promise<Utt[]> {
  const phrases = specs.map((s) => ` ${termWords(s.term).join(' ')} `);
  const clean = (text: string): boolean => !phrases.some((p) => ` ${text} `.includes(p));
  const data = (await readManifest()).filter((r) => r.kind === 'sentence' && clean(r.text))
    .map((r) => ({ file: r.file, text: r.text, durationSec: r.durationS, source: 'data' }));
  const lines = (await readFile(path.join(TRAIN_SPEECH, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
  const rand = seededRandom(seed);
  const train = lines.map((l) => {
    const [p, text, d] = l.split(',');
    return { file: path.join(TRAIN_SPEECH, p!), text: text!, durationSec: Number(d), source: p!.split('/')[0]! };
  }).filter((u) => clean(u.text) && u.durationSec >= 1.5).sort(() => rand() - 0.5);
  const out: Utt[] = [...data];
  let total = data.reduce((s, u) => s + u.durationSec, 0);
  for (const u of train) {
    if (total >= minutes * 60) break;
    out.push(u);
    total += u.durationSec;
  }
  return out.sort(() => rand() - 0.5);
}

interface HalfRun { hours: number; tails: Map<string, ScoreTail>; detections: Map<string, number> }

async function runHalf(model: OnnxAcousticModel, specs: KeywordSpec[], utts: readonly Utt[], thresholds?: ReadonlyMap<string, number>): Promise<HalfRun> {
  const log = new OccurrenceLog(CALIBRATION_FLOOR);
  const detections = new Map(specs.map((s) => [s.term, 0]));
  let sec = 0;
  for (const [i, u] of utts.entries()) {
    if (i % 50 === 0) process.stderr.write(`\r  ${i}/${utts.length}`);
    const pcm = await readRecording(u.file);
    log.file = u.file;
    const r = await detectSamples(u.file, pcm, { model, keywords: specs, scores: thresholds ? undefined : log, thresholds, search: { refractorySec: REFRACTORY_SEC } });
    for (const d of r.detections) detections.set(d.term, (detections.get(d.term) ?? 0) + 1);
    sec += r.durationSec;
  }
  process.stderr.write('\n');
  const hours = sec / 3600;
  const tails = new Map<string, ScoreTail>(specs.map((s) => [s.term, new OccurrenceTail(log.byTerm.get(s.term) ?? [], hours, REFRACTORY_SEC)]));
  return { hours, tails, detections };
}

interface PerTerm { total: number; meanPerTerm: number; termsOver: number; maxPerTerm: number; worst: string; reachedMeanPerTerm: number; reachedTermsOver: number }

/** Per-term false-alarm figures; `reached` figures leave out the terms calibration said cannot reach the target. */
function perTerm(counts: Map<string, number>, hours: number, target: number, unreached: ReadonlySet<string>): PerTerm {
  const rates = [...counts.entries()].map(([t, n]) => [t, n / hours] as const).sort((a, b) => b[1] - a[1]);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const reached = rates.filter(([t]) => !unreached.has(t));
  return {
    total, meanPerTerm: total / hours / counts.size, termsOver: rates.filter(([, r]) => r > target + 1e-9).length,
    maxPerTerm: rates[0]?.[1] ?? 0, worst: rates.slice(0, 3).filter(([, r]) => r > 0).map(([t, r]) => `${t} ${round(r, 1)}`).join(', '),
    reachedMeanPerTerm: reached.reduce((a, [, r]) => a + r, 0) / Math.max(1, reached.length),
    reachedTermsOver: reached.filter(([, r]) => r > target + 1e-9).length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, target: { type: 'string' }, 'recall-minutes': { type: 'string' }, seed: { type: 'string' } } });
  const minutes = Number(values.minutes ?? 60);
  const target = Number(values.target ?? 1);
  const recallMinutes = Number(values['recall-minutes'] ?? 5);
  const seed = Number(values.seed ?? 7);
  const model = await loadModel(DEFAULT_MODEL_DIR);
  const { specs } = await loadVocab(DEFAULT_VOCAB);
  const utts = await negatives(specs, minutes, seed);
  const halves = [utts.filter((_, i) => i % 2 === 0), utts.filter((_, i) => i % 2 === 1)];
  process.stderr.write(`${utts.length} utterances without terms, ${round(utts.reduce((s, u) => s + u.durationSec, 0) / 60, 1)} min; scoring both halves\n`);
  const t0 = Date.now();
  const scored = [];
  for (const h of halves) scored.push(await runHalf(model, specs, h));
  const rows: Array<Array<string | number>> = [['calibrated on', 'tested on', 'h', 'thresholds', 'FA total', 'FA/h per term (mean)', `terms > ${target}/h`,
    'FA/h per reachable term (mean)', `reachable terms > ${target}/h`, 'max FA/h of a term', 'worst terms (FA/h)']];
  const result: Record<string, unknown>[] = [];
  const calibrations: Array<Map<string, number>> = [];
  for (const [c, t] of [[0, 1], [1, 0]] as const) {
    const chosen = chooseThresholds(scored[c]!.tails, { targetFaPerHour: target });
    const thresholds = new Map(chosen.terms.map((x) => [x.term, x.threshold]));
    calibrations.push(thresholds);
    process.stderr.write(`detecting on half ${'AB'[t]} with half ${'AB'[c]}'s calibration\n`);
    const test = await runHalf(model, specs, halves[t]!, thresholds);
    const unreached = chosen.terms.filter((x) => !x.reached).map((x) => x.term);
    const before = perTerm(scored[t]!.detections, scored[t]!.hours, target, new Set(unreached));
    const after = perTerm(test.detections, test.hours, target, new Set(unreached));
    const cal = chosen.terms.map((x) => x.threshold);
    rows.push(['-', 'AB'[t]!, round(scored[t]!.hours, 2), 'vocabulary', before.total, round(before.meanPerTerm, 3), before.termsOver,
      round(before.reachedMeanPerTerm, 3), before.reachedTermsOver, round(before.maxPerTerm, 1), before.worst]);
    rows.push(['AB'[c]!, 'AB'[t]!, round(test.hours, 2), `calibrated (median ${round(cal.sort((a, b) => a - b)[cal.length >> 1]!, 2)}; unreachable: ${unreached.join(', ') || 'none'})`,
      after.total, round(after.meanPerTerm, 3), after.termsOver, round(after.reachedMeanPerTerm, 3), after.reachedTermsOver, round(after.maxPerTerm, 1), after.worst]);
    result.push({ calibratedOn: 'AB'[c], testedOn: 'AB'[t], hours: test.hours, tailScale: chosen.scale, unreached, vocabulary: before, calibrated: after,
      thresholds: Object.fromEntries(thresholds), calibrationFaPerHour: Object.fromEntries(chosen.terms.map((x) => [x.term, x.faPerHour])) });
  }
  process.stdout.write(`\nSite calibration at R = ${target} false alarms/h per term, ${specs.length} terms, ${round((Date.now() - t0) / 60000, 1)} min\n${formatTable(rows)}\n`);

  const recall: Record<string, unknown>[] = [];
  if (recallMinutes > 0) {
    const rec = await buildRecording({ minutes: recallMinutes, kind: 'speech', terms: specs.map((s) => s.term), voices: ['flite:slt', 'espeak:en-us'], seed });
    const pcm = await readRecordingSamples(rec);
    const recallRows: Array<Array<string | number>> = [['thresholds', 'targets', 'recall']];
    for (const [name, thresholds] of [['vocabulary', undefined], ['calibrated on A', calibrations[0]], ['calibrated on B', calibrations[1]]] as const) {
      const r = await detectSamples(rec.file, pcm, { model, keywords: specs, thresholds, search: { refractorySec: REFRACTORY_SEC } });
      const s = scoreDetections(r.detections, rec.utterances, r.durationSec);
      recallRows.push([name, s.targets, round(s.recall, 3)]);
      recall.push({ thresholds: name, targets: s.targets, recall: s.recall });
    }
    process.stdout.write(`\nRecall on ${recallMinutes} min of synthesised speech with the terms (flite slt, espeak-ng en-us; the model's SLT voice is held out)\n${formatTable(recallRows)}\n`);
  }
  const dir = path.join(repoRoot, 'bench/results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `calibration-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ minutes, target, seed, utterances: utts.length, hours: scored.map((s) => s.hours), directions: result, recall }, null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
  await model.dispose();
}

await main();
