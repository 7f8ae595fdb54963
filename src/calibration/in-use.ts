/**
 * The calibration the daemon runs with: loaded beside the vocabulary at start and at every
 * vocabulary reload (a reload changes the vocabulary version), checked against the model and the
 * vocabulary, refused with a message when it does not match (the vocabulary's thresholds apply
 * then; a term added or changed since it was made keeps the vocabulary's threshold, the others keep
 * theirs), and summarised for the `info` topic.
 */
import type { ThresholdOverrides } from '../kws/types.js';
import { CalibrationError, calibrationThresholds, checkCalibration, readCalibration, summarizeCalibration, type CalibrationIdentity, type CalibrationSummary } from './file.js';

/** What `info.calibration` says: the file used, or why none is. */
export type CalibrationStatus =
  | ({ used: true } & CalibrationSummary)
  | { used: false; file: string; problem: string | null };

export interface CalibrationInUse {
  thresholds: ThresholdOverrides | null;
  status: CalibrationStatus;
  /** Set when a file exists but was refused (not when it is the factory one): what to log and publish on `error`. */
  error: CalibrationError | null;
  /** The file is the shipped (factory) calibration. */
  factory: boolean;
}

export async function calibrationFor(file: string, identity: CalibrationIdentity): Promise<CalibrationInUse> {
  let factory = false;
  try {
    const c = await readCalibration(file);
    if (!c) return { thresholds: null, status: { used: false, file, problem: null }, error: null, factory };
    factory = c.factory === true;
    c.terms = checkCalibration(file, c, identity);
    return { thresholds: calibrationThresholds(c), status: { used: true, ...summarizeCalibration(file, c, identity) }, error: null, factory };
  } catch (err) {
    const error = err instanceof CalibrationError ? err : new CalibrationError(file, (err as Error).message);
    // The shipped calibration is for the default detectors: with others it is just not used.
    return { thresholds: null, status: { used: false, file, problem: error.message }, error: factory ? null : error, factory };
  }
}

/** One line saying which calibration a run uses: the file and its kind (factory or site), or none and why. */
export function describeCalibration(c: CalibrationInUse): string {
  const kind = c.factory ? 'factory' : 'site';
  if (c.status.used) {
    const s = c.status;
    return `calibration: ${s.file} (${kind}, from ${s.source}, ${s.terms} term(s), target ${s.targetFaPerHour} false alarms/h per term)`;
  }
  if (c.status.problem === null) return `calibration: none (no file at ${c.status.file}): the vocabulary's thresholds apply`;
  return `calibration: none (the ${kind} calibration ${c.status.file} is not used): the vocabulary's thresholds apply`;
}
