/** Threshold selection, the calibration file's checks, feedback and the score history's bound, on real files. */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { applyFeedback, jsonlFeedbackSource } from '../../src/calibration/feedback.js';
import { CALIBRATION_FORMAT, CalibrationError, loadCalibration, writeCalibration, type Calibration } from '../../src/calibration/file.js';
import { calibrationFor } from '../../src/calibration/in-use.js';
import { HISTORY_BINS, HISTORY_BYTES_PER_TERM, HISTORY_FILE, HistogramTail, ScoreHistory, historyTails, readHistory } from '../../src/calibration/history.js';
import { countDetections, OccurrenceTail, type Occurrence } from '../../src/calibration/occurrences.js';
import { CALIBRATION_FLOOR, chooseThresholds, termThreshold } from '../../src/calibration/thresholds.js';
import type { KeywordSpec } from '../../src/kws/types.js';
import { rng } from '../kws/search-posteriors.js';
import { tempDir } from '../fixtures/gearhear-cli.js';

const occ = (score: number, start: number, file = 'a.wav'): Occurrence => ({ score, start, end: start + 0.5, file });

t.test('detections are counted with the daemon\'s refractory rule', async (t) => {
  const o = [occ(0.9, 0), occ(0.6, 0.2), occ(0.8, 1.2), occ(0.95, 1.6), occ(0.7, 5), occ(0.9, 0, 'b.wav')].sort((a, b) => a.file.localeCompare(b.file) || a.start - b.start);
  t.equal(countDetections(o, 0.5, 1), 4, '0.2 overlaps 0; 1.2 is 0.7 s after 0.5; 1.6 is 1.1 s after: counted; 5; b.wav is another file');
  t.equal(countDetections(o, 0.85, 1), 3, 'at 0.85: 0, 1.6 and b.wav');
  t.equal(countDetections(o, 0.99, 1), 0);
});

t.test('a threshold never lets through more than R per hour of the calibration audio, with margin', async (t) => {
  const random = rng(3);
  // 2 hours; 40 occurrences of a babble-like tail (exponential above the floor, scale 0.1).
  const o = Array.from({ length: 40 }, (_, i) => occ(Math.min(1, CALIBRATION_FLOOR - 0.1 * Math.log(1 - random())), i * 100));
  const tail = new OccurrenceTail(o, 2, 1);
  for (const R of [0.5, 1, 5]) {
    const th = termThreshold('x', tail, 0.1, { targetFaPerHour: R });
    t.ok(th.reached, `R ${R}: reached`);
    t.ok(th.faPerHour <= R, `R ${R}: measured ${th.faPerHour}/h at ${th.threshold}`);
    t.ok(th.modelFaPerHour <= R / 2 + 1e-9 || th.faPerHour <= R, `R ${R}: the model aims at half the target (${th.modelFaPerHour})`);
  }
  const low = termThreshold('x', tail, 0.1, { targetFaPerHour: 0.5 });
  const high = termThreshold('x', tail, 0.1, { targetFaPerHour: 5 });
  t.ok(low.threshold > high.threshold, `a stricter target gives a higher threshold (${low.threshold} > ${high.threshold})`);
});

t.test('a term whose false alarms score 1.0 cannot reach the target', async (t) => {
  const o = [occ(1, 0), occ(1, 10), occ(1, 20), occ(0.5, 30)];
  const th = termThreshold('fire', new OccurrenceTail(o, 0.5, 1), 0.3, { targetFaPerHour: 1 });
  t.equal(th.reached, false);
  t.equal(th.threshold, 1, 'set to the highest threshold');
  t.equal(th.faPerHour, 6, 'and the rate there is reported');
});

t.test('the tail scale is fitted on every term together; a term never heard gets a finite threshold', async (t) => {
  const tails = new Map([
    ['a', new OccurrenceTail(Array.from({ length: 30 }, (_, i) => occ(0.3 + (i % 10) * 0.02, i * 50)), 1, 1)],
    ['quiet', new OccurrenceTail([], 1, 1)],
  ]);
  const r = chooseThresholds(tails, { targetFaPerHour: 1 });
  t.ok(Math.abs(r.scale - 0.09) < 1e-9, `scale = mean excess over the floor (${r.scale})`);
  const quiet = r.terms.find((x) => x.term === 'quiet')!;
  // rate at the floor (0 + 1) / 1 h, aim 0.5/h: floor + 0.09 ln 2
  t.ok(Math.abs(quiet.threshold - Math.ceil((0.3 + 0.09 * Math.log(2)) * 1000) / 1000) < 1e-9, `quiet term ${quiet.threshold}`);
  t.throws(() => chooseThresholds(tails, { targetFaPerHour: 0 }), /must be > 0/);
});

const identity = { model: { id: 'gearhear-kws', version: '0.2.0', sha256: 'a'.repeat(64) }, vocabulary: { version: 'v1v1v1v1v1v1' }, boost: 0 };

function calibration(terms: Calibration['terms']): Calibration {
  return { format: CALIBRATION_FORMAT, createdAt: new Date().toISOString(), source: 'recordings', ...identity, targetFaPerHour: 1, margin: 2, floor: 0.3, tailScale: 0.1, audioHours: 1, terms };
}

t.test('a calibration with per-term keys survives a vocabulary edit for the terms whose line still scores the same', async (t) => {
  const dir = await tempDir(t, 'gearhear-cal-');
  const file = path.join(dir, 'site.calibration.json');
  const made = { version: 'v1v1v1v1v1v1', terms: { bearing: 'bearing||', 'oil leak': 'oil leak|0.5|', fire: 'fire||' } };
  const cal = { ...calibration({
    bearing: { threshold: 0.6, siteThreshold: 0.6, faPerHour: 0, reached: true },
    'oil leak': { threshold: 0.7, siteThreshold: 0.7, faPerHour: 0, reached: true },
    fire: { threshold: 0.9, siteThreshold: 0.9, faPerHour: 0.1, reached: true },
  }), vocabulary: made };
  await writeCalibration(file, cal);
  // Since then: "oil leak" got another boost, "fire" was removed, "gasket" was added.
  const now = { version: 'v2v2v2v2v2v2', terms: { bearing: 'bearing||', 'oil leak': 'oil leak|1|', gasket: 'gasket||' } };
  const loaded = (await loadCalibration(file, { ...identity, vocabulary: now }))!;
  t.same(Object.keys(loaded.terms), ['bearing'], 'only the unchanged term keeps its calibrated threshold');
  const inUse = await calibrationFor(file, { ...identity, vocabulary: now });
  t.equal(inUse.error, null, 'not refused');
  t.same([...inUse.thresholds!], [['bearing', 0.6]]);
  t.same(inUse.status.used && inUse.status.uncalibrated, ['oil leak', 'gasket'], 'the added and the changed term are named as uncalibrated');
  // The same version: everything applies, nothing uncalibrated.
  const same = await calibrationFor(file, { ...identity, vocabulary: made });
  t.same(same.status.used && same.status.uncalibrated, []);
  t.equal(same.thresholds!.size, 3);
  // Still refused for another model, even with keys.
  const other = { ...identity, model: { ...identity.model, sha256: 'c'.repeat(64) }, vocabulary: now };
  await t.rejects(loadCalibration(file, other), /refused: it was made for model/);
  t.ok((await calibrationFor(file, other)).error instanceof CalibrationError, 'a site calibration for other detectors is an error to report');
  // The shipped (factory) calibration for other detectors: not used, said in the status, not an error.
  await writeCalibration(file, { ...cal, factory: true });
  const factory = await calibrationFor(file, other);
  t.equal(factory.error, null, 'the factory calibration for other detectors is no error');
  t.equal(factory.thresholds, null);
  t.match(factory.status, { used: false, problem: /refused: it was made for model/ });
});

t.test('a calibration for another model, vocabulary version or boost is refused, naming what differs', async (t) => {
  const dir = await tempDir(t, 'gearhear-cal-');
  const file = path.join(dir, 'site.calibration.json');
  await writeCalibration(file, calibration({ bearing: { threshold: 0.6, siteThreshold: 0.6, faPerHour: 0, reached: true } }));
  t.same((await loadCalibration(file, identity))!.terms.bearing!.threshold, 0.6);
  const err = await loadCalibration(file, { ...identity, model: { ...identity.model, version: '0.3.0', sha256: 'b'.repeat(64) } }).catch((e: unknown) => e);
  t.ok(err instanceof CalibrationError, 'a CalibrationError');
  t.match((err as Error).message, /refused: it was made for model gearhear-kws 0.2.0 \(sha256 aaaaaaaaaaaa\), this is gearhear-kws 0.3.0 \(sha256 bbbbbbbbbbbb\).*gearhear calibrate/);
  await t.rejects(loadCalibration(file, { ...identity, vocabulary: { version: 'v2v2v2v2v2v2' } }), /vocabulary version v1v1v1v1v1v1, this is version v2v2v2v2v2v2/);
  await t.rejects(loadCalibration(file, { ...identity, boost: 1 }), /kws.boost 0, this is 1/);
  t.equal(await loadCalibration(path.join(dir, 'none.json'), identity), null, 'no file: no calibration');
  await writeFile(file, '{"format": "gearhear-calibration/1", "model": ');
  await t.rejects(loadCalibration(file, identity), new RegExp(`calibration ${file} is not JSON`));
});

t.test('feedback raises terms with false verdicts above their clips\' scores, lowers none below the site calibration', async (t) => {
  const dir = await tempDir(t, 'gearhear-feedback-');
  const site = calibration({
    bearing: { threshold: 0.6, siteThreshold: 0.6, faPerHour: 0, reached: true },
    gearbox: { threshold: 0.7, siteThreshold: 0.7, faPerHour: 0, reached: true },
    pump: { threshold: 0.8, siteThreshold: 0.5, faPerHour: 0, reached: true },
  });
  const file = path.join(dir, 'feedback.jsonl');
  await writeFile(file, [
    { term: 'bearing', verdict: 'false', score: 0.66 }, { term: 'bearing', verdict: 'wrong-term', actualTerm: 'gearbox', clip: 'c1.wav', score: 0.62 },
    { term: 'bearing', verdict: 'true', score: 0.64 }, { term: 'gearbox', verdict: 'false', score: 0.65 }, { term: 'gearbox', verdict: 'true', score: 0.9 },
    { term: 'unknown', verdict: 'false', score: 0.9 },
  ].map((x) => JSON.stringify(x)).join('\n') + '\n');
  const clipScores: Record<string, number> = { 'c1.wav bearing': 0.71, 'c1.wav gearbox': 0.9 };
  const scorer = async (clip: string, term: string): Promise<number | null> => clipScores[`${clip} ${term}`] ?? null;
  const r = await applyFeedback(site, await jsonlFeedbackSource(file).items(), scorer);
  t.equal(r.calibration.terms.bearing!.threshold, 0.711, 'just above the highest false score, the clip re-scored (0.71) over the stored 0.62');
  t.equal(r.calibration.terms.bearing!.siteThreshold, 0.6, 'the site threshold is kept');
  t.equal(r.calibration.terms.gearbox!.threshold, 0.7, 'a false score below the site threshold lowers nothing');
  t.equal(r.calibration.terms.pump!.threshold, 0.5, 'back to the site calibration when no verdict is false');
  t.same(r.changes.find((c) => c.term === 'bearing'), { term: 'bearing', from: 0.6, to: 0.711, siteThreshold: 0.6, falseVerdicts: 1, wrongTermVerdicts: 1, trueBelow: 1 });
  t.match(r.skipped.join('\n'), /"unknown" \(false\): not a term/);
  const again = await applyFeedback(r.calibration, await jsonlFeedbackSource(file).items(), scorer);
  t.same(again.calibration.terms, r.calibration.terms, 'running it again on the same verdicts changes nothing');
  await writeFile(file, '{"term":"bearing","verdict":"maybe","score":0.5}\nnot json\n');
  await t.rejects(jsonlFeedbackSource(file).items(), /2 bad feedback line\(s\):\n.*feedback.jsonl:1: "verdict" must be one of false, true, wrong-term[\s\S]*feedback.jsonl:2:/);
});

t.test('a wrong-term verdict is a false alarm of the term detected and a positive of the term said', async (t) => {
  const site = calibration({
    gear: { threshold: 0.6, siteThreshold: 0.6, faPerHour: 0, reached: true },
    gearbox: { threshold: 0.7, siteThreshold: 0.7, faPerHour: 0, reached: true },
  });
  // "gearbox" was said and reported as "gear": in the clip gear scores 0.68 and gearbox 0.72.
  const clipScores: Record<string, number> = { 'c.wav gear': 0.68, 'c.wav gearbox': 0.72 };
  const scorer = async (clip: string, term: string): Promise<number | null> => clipScores[`${clip} ${term}`] ?? null;
  const wrong = { term: 'gear', verdict: 'wrong-term', actualTerm: 'Gearbox', clip: 'c.wav', score: 0.65 } as const;
  const r = await applyFeedback(site, [wrong], scorer);
  t.equal(r.calibration.terms.gear!.threshold, 0.681, 'the term detected is raised above its score in the clip');
  t.same({ falseVerdicts: r.calibration.terms.gear!.falseVerdicts, wrongTermVerdicts: r.calibration.terms.gear!.wrongTermVerdicts }, { falseVerdicts: undefined, wrongTermVerdicts: 1 },
    'counted as a wrong-term verdict, not as a false one');
  t.equal(r.calibration.terms.gearbox!.threshold, 0.7, 'the term said is not raised, though it scores 0.72 there');
  t.same(r.changes.map((c) => c.term), ['gear'], 'and nothing is said about it: its threshold lets the clip through');

  // With a false verdict of its own (0.75) the term said is raised by that, and its clip is named as a positive now missed.
  const both = await applyFeedback(site, [wrong, { term: 'gearbox', verdict: 'false', score: 0.75 }], scorer);
  t.same(both.changes.find((c) => c.term === 'gearbox'), { term: 'gearbox', from: 0.7, to: 0.751, siteThreshold: 0.7, falseVerdicts: 1, wrongTermVerdicts: 0, trueBelow: 1 });

  const odd = await applyFeedback(site, [{ ...wrong, actualTerm: 'gear' }, { ...wrong, actualTerm: 'flux capacitor' }], scorer);
  t.match(odd.skipped.join('\n'), /"gear" \(wrong-term gear\): names the detected term itself/);
  t.match(odd.skipped.join('\n'), /"flux capacitor" is not a term of this calibration's vocabulary, so the clip counts only against "gear"/);
  t.equal(odd.calibration.terms.gear!.wrongTermVerdicts, 1, 'the one naming another word still counts against the term detected');
});

const spec = (term: string, phones = ['B', 'EH', 'R']): KeywordSpec => ({ term, category: 'c', severity: 'info', threshold: 0.5, boost: 0, pronunciations: [phones] });

t.test('the score history stays within its stated bound, survives a reopen and restarts changed terms', async (t) => {
  const dir = await tempDir(t, 'gearhear-history-');
  const specs = Array.from({ length: 50 }, (_, i) => spec(`term ${i}`));
  const h = await ScoreHistory.open(dir, 'm'.repeat(64), specs);
  const random = rng(9);
  for (let i = 0; i < 200_000; i++) h.score({ term: `term ${i % 50}`, score: CALIBRATION_FLOOR + random() * (1 - CALIBRATION_FLOOR), start: 0, end: 1, segmentId: 's' });
  for (let i = 0; i < 50; i++) h.score({ term: `term ${i}`, score: 1, start: 0, end: 1, segmentId: 's' });
  h.score({ term: 'not in the vocabulary', score: 0.9, start: 0, end: 1, segmentId: 's' });
  h.addAudio(7200);
  await h.write();
  const file = path.join(dir, HISTORY_FILE);
  const size = (await stat(file)).size;
  t.ok(size <= 50 * HISTORY_BYTES_PER_TERM, `${size} bytes for 50 terms with every bin hit <= ${50 * HISTORY_BYTES_PER_TERM}`);
  const saved = (await readHistory(file))!;
  t.equal(Object.keys(saved.terms).length, 50, 'only vocabulary terms');
  t.equal(Object.keys(saved.terms['term 0']!.bins).length, HISTORY_BINS, 'every bin of a term used, no more');
  t.equal(Object.values(saved.terms['term 3']!.bins).reduce((a, b) => a + b, 0), 4001);
  // Reopen with one term's pronunciation changed and one new term: those start at zero, the rest is kept.
  const next = [...specs.slice(0, 48), spec('term 48', ['P', 'AH', 'M']), spec('new term')];
  const h2 = await ScoreHistory.open(dir, 'm'.repeat(64), next);
  h2.addAudio(3600);
  await h2.write();
  const { tails, stale } = historyTails((await readHistory(file))!, next);
  t.equal(tails.get('term 0')!.hours, 3, 'two hours before and one after the reopen');
  t.equal(tails.get('term 48')!.hours, 1, 'changed pronunciation: only the hour since');
  t.same(stale, [], 'every term has audio');
  t.equal((tails.get('term 48') as HistogramTail).count(0), 0);
  t.equal(tails.get('term 0')!.count(1), 1, 'the score of exactly 1.0 has its own bin');
  const other = await ScoreHistory.open(dir, 'x'.repeat(64), next);
  t.equal(other.snapshot().terms['term 0']!.audioSec, 0, 'another model starts from zero');
  t.ok(JSON.parse(await readFile(file, 'utf8')), 'the file is JSON');
});
