/**
 * The calibration file: per-term thresholds for one model and one vocabulary version, written by
 * `gearhear calibrate` beside the vocabulary (`<vocab>.calibration.json` by default; never into the
 * vocabulary file) and loaded by the daemon with it. Format: docs/calibration.md.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ThresholdOverrides, VocabTerm } from '../kws/types.js';
import { termScoringKey } from '../kws/vocabulary.js';

export const CALIBRATION_FORMAT = 'gearhear-calibration/1';

/** What scores were calibrated on: the model file and the vocabulary version (both hashes) and the global boost. */
export interface CalibrationIdentity {
  model: { id: string; version: string; sha256: string };
  /**
   * `terms`: each term's scoring key (termScoringKey). When present on both sides, a calibration for
   * another version of the vocabulary still applies to the terms whose key is unchanged.
   */
  vocabulary: { version: string; terms?: Record<string, string> };
  /** kws.boost at calibration time: it shifts every score. */
  boost: number;
}

/**
 * The detectors' identity for a calibration or a score history: the phone model's, or with term
 * heads (model.detector = heads) both, since each term is scored by one or the other. The heads'
 * patience (model.headsPatience) changes what their scores are, so above 1 hop it is part of it.
 */
export function detectorIdentity(model: { id: string; version: string; sha256: string }, heads?: { manifest: { id: string; version: string }; sha256: string } | null,
  embedding?: { embeddingSha256: string | null } | null, patienceHops = 1): CalibrationIdentity['model'] {
  if (!heads) return { id: model.id, version: model.version, sha256: model.sha256 };
  // Heads on another embedding than Google's (model.embedding = student...) are another detector.
  const other = embedding?.embeddingSha256;
  const patience = patienceHops > 1 ? `+patience${patienceHops}` : '';
  return {
    id: `${model.id}+${heads.manifest.id}${other ? '+student-embedding' : ''}`, version: `${model.version}+${heads.manifest.version}${patience}`,
    sha256: createHash('sha256').update(`${model.sha256}\n${heads.sha256}${other ? `\n${other}` : ''}${patience ? `\n${patience}` : ''}`).digest('hex'),
  };
}

export interface CalibratedTerm {
  threshold: number;
  /** The threshold the site calibration (recordings or history) chose; feedback never goes below it. */
  siteThreshold: number;
  /** Detections per hour measured in the calibration audio at `threshold`. */
  faPerHour: number;
  reached: boolean;
  /** Set when feedback raised the threshold: how many `false` verdicts did it. */
  falseVerdicts?: number;
  /** Set when feedback raised the threshold: how many `wrong-term` verdicts on its detections did it. */
  wrongTermVerdicts?: number;
}

export interface Calibration extends CalibrationIdentity {
  format: typeof CALIBRATION_FORMAT;
  createdAt: string;
  source: 'recordings' | 'history' | 'feedback';
  targetFaPerHour: number;
  margin: number;
  floor: number;
  tailScale: number;
  audioHours: number;
  /**
   * The shipped default (`calibrate --factory`), made on the project's recordings for the default
   * detectors: where it does not fit the running ones it is not used, without an error.
   */
  factory?: boolean;
  /** Keyed by term (normalised). */
  terms: Record<string, CalibratedTerm>;
}

/** The vocabulary half of a calibration identity: its version and every term's scoring key. */
export function vocabularyIdentity(vocab: { version: string; terms: readonly VocabTerm[] }): CalibrationIdentity['vocabulary'] {
  return { version: vocab.version, terms: Object.fromEntries(vocab.terms.map((t) => [t.term, termScoringKey(t)])) };
}

/** What is running, for a calibration: the detectors (detectorIdentity's arguments), the vocabulary and kws.boost. */
export function calibrationIdentity(detectors: Parameters<typeof detectorIdentity>, vocab: Parameters<typeof vocabularyIdentity>[0], boost: number): CalibrationIdentity {
  return { model: detectorIdentity(...detectors), vocabulary: vocabularyIdentity(vocab), boost };
}

/** A calibration that is for another model or vocabulary (or cannot be read): refused. */
export class CalibrationError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}

/** Where the daemon and `detect` look for a calibration, and where calibrate writes one: calibration.file, else beside the vocabulary. */
export function calibrationFileFor(config: { calibration: { file: string }; vocab: { file: string }; model: { phones: string } }, vocabPath = config.vocab.file): string {
  if (config.calibration.file) return config.calibration.file;
  const own = calibrationPathFor(vocabPath, config.model.phones);
  // Calibrations made before each phone model had its own file were all written to
  // <vocabulary>.calibration.json: without a file of its own, a phone model still finds one there
  // (and the checks refuse it when it was made for another model).
  return existsSync(own) ? own : calibrationPathFor(vocabPath);
}

/** Where `gearhear calibrate` writes by default: calibration.file, else the phone model's own file beside the vocabulary. */
export function calibrationOutFor(config: { calibration: { file: string }; model: { phones: string } }, vocabPath: string, vocabNamed: boolean): string {
  return !vocabNamed && config.calibration.file ? config.calibration.file : calibrationPathFor(vocabPath, config.model.phones);
}

/**
 * `vocab/site.txt` -> `vocab/site.calibration.json` for the default phone model (model.phones = kws),
 * `vocab/site.both.calibration.json` for model.phones = both (and so on): a calibration fits one
 * phone model, so each has its own file and switching models keeps both.
 */
export function calibrationPathFor(vocabPath: string, phones = 'kws'): string {
  const ext = path.extname(vocabPath);
  return path.join(path.dirname(vocabPath), `${path.basename(vocabPath, ext)}${phones === 'kws' ? '' : `.${phones}`}.calibration.json`);
}

export async function writeCalibration(file: string, calibration: Calibration): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(calibration, null, 2) + '\n');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`cannot write calibration ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads and validates the file's shape; null when it does not exist. */
export async function readCalibration(file: string): Promise<Calibration | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CalibrationError(file, `cannot read calibration ${file}: ${(err as Error).message}`);
  }
  let c: Calibration;
  try {
    c = JSON.parse(text) as Calibration;
  } catch (err) {
    throw new CalibrationError(file, `calibration ${file} is not JSON (${(err as Error).message}); run \`gearhear calibrate\` again or remove it`);
  }
  const bad = (what: string): CalibrationError => new CalibrationError(file, `calibration ${file}: ${what}; run \`gearhear calibrate\` again or remove it`);
  if (c === null || typeof c !== 'object') throw bad('not an object');
  if (c.format !== CALIBRATION_FORMAT) throw bad(`format is ${JSON.stringify(c.format)}, expected "${CALIBRATION_FORMAT}"`);
  if (typeof c.model?.sha256 !== 'string' || typeof c.vocabulary?.version !== 'string') throw bad('model.sha256 or vocabulary.version missing');
  if (c.terms === null || typeof c.terms !== 'object') throw bad('terms missing');
  if (c.factory !== undefined && typeof c.factory !== 'boolean') throw bad('factory is not true or false');
  for (const [term, t] of Object.entries(c.terms)) {
    if (!(t.threshold >= 0 && t.threshold <= 1) || !(t.siteThreshold >= 0 && t.siteThreshold <= 1)) throw bad(`term "${term}" has a threshold outside [0,1]`);
  }
  return c;
}

/**
 * Throws CalibrationError naming what differs when `c` was made for another model or boost, or for
 * another vocabulary version without per-term keys. Returns the terms of `c` that apply: all of them
 * for the same vocabulary version, else those whose scoring key is unchanged (a term added, removed
 * or re-pronounced since is left to the vocabulary's thresholds).
 */
export function checkCalibration(file: string, c: Calibration, current: CalibrationIdentity): Calibration['terms'] {
  const problems: string[] = [];
  if (c.model.sha256 !== current.model.sha256) {
    problems.push(`it was made for model ${c.model.id} ${c.model.version} (sha256 ${c.model.sha256.slice(0, 12)}), this is ${current.model.id} ${current.model.version} (sha256 ${current.model.sha256.slice(0, 12)})`);
  }
  let terms = c.terms;
  if (c.vocabulary.version !== current.vocabulary.version) {
    const made = c.vocabulary.terms, now = current.vocabulary.terms;
    if (made && now) terms = Object.fromEntries(Object.entries(c.terms).filter(([term]) => made[term] !== undefined && made[term] === now[term]));
    else problems.push(`it was made for vocabulary version ${c.vocabulary.version}, this is version ${current.vocabulary.version}`);
  }
  if ((c.boost ?? 0) !== current.boost) problems.push(`it was made with kws.boost ${c.boost}, this is ${current.boost}`);
  if (problems.length > 0) {
    throw new CalibrationError(file, `calibration ${file} refused: ${problems.join('; ')}. Scores differ between models and vocabularies: run \`gearhear calibrate\` again (or remove the file to use the vocabulary's thresholds)`);
  }
  return terms;
}

/** The thresholds a calibration sets, for the detector. */
export function calibrationThresholds(c: Calibration): ThresholdOverrides {
  return new Map(Object.entries(c.terms).map(([term, t]) => [term, t.threshold]));
}

/** A short summary for `info` and logs. */
export interface CalibrationSummary {
  file: string;
  createdAt: string;
  source: Calibration['source'];
  targetFaPerHour: number;
  audioHours: number;
  terms: number;
  unreached: string[];
  /** Terms of the running vocabulary it has no threshold for (added or changed since it was made). */
  uncalibrated: string[];
}

export function summarizeCalibration(file: string, c: Calibration, current?: CalibrationIdentity): CalibrationSummary {
  const now = Object.keys(current?.vocabulary.terms ?? {});
  return {
    file, createdAt: c.createdAt, source: c.source, targetFaPerHour: c.targetFaPerHour, audioHours: c.audioHours,
    terms: Object.keys(c.terms).length, unreached: Object.entries(c.terms).filter(([, t]) => !t.reached).map(([term]) => term),
    uncalibrated: now.filter((term) => c.terms[term] === undefined),
  };
}

/** Loads `file` and checks it against what is running (keeping the terms that apply): null when there is no file. */
export async function loadCalibration(file: string, current: CalibrationIdentity): Promise<Calibration | null> {
  const c = await readCalibration(file);
  if (c) c.terms = checkCalibration(file, c, current);
  return c;
}
