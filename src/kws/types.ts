import type { Severity } from '../detection.js';

export type { Detection, Severity } from '../detection.js';

/** One vocabulary entry, as parsed from a vocabulary file. */
export interface VocabTerm {
  term: string;
  category: string;
  severity: Severity;
  /** Per-term confidence threshold in [0,1] (defaults from config when absent). */
  threshold?: number;
  /** Per-term log-score bonus per phone (bias toward this term). */
  boost?: number;
  /** ARPAbet pronunciation overrides, each a list of phones (stress removed). */
  pronunciations?: string[][];
  /** Where it came from, for error messages. */
  file: string;
  line: number;
}

export interface Vocabulary {
  file: string;
  /** Content hash, short hex: the vocabulary version published with detections. */
  version: string;
  terms: VocabTerm[];
}

/** A vocabulary term resolved to pronunciations: what the keyword search is built from. */
export interface KeywordSpec {
  term: string;
  category: string;
  severity: Severity;
  /** Confidence threshold in [0,1]. */
  threshold: number;
  /** Log-score bonus per phone; 0 = neutral. */
  boost: number;
  /** One or more pronunciations, each a list of ARPAbet phones (stress removed). */
  pronunciations: string[][];
}

/**
 * One scored occurrence of a term, whether or not it passed the term's threshold: what calibration
 * counts. Any detector can produce these (the phone keyword search, a term head on an embedding).
 * Times are seconds from the start of the segment's source, as in Detection.
 */
export interface TermScore {
  term: string;
  /** The detector's confidence for this occurrence, in [0,1], on the same scale as its thresholds. */
  score: number;
  start: number;
  end: number;
  segmentId: string;
}

/**
 * Receives every candidate occurrence a detector scores at or above `floor`, including those below
 * the term's threshold. A detector with a sink attached must report exactly the same detections as
 * without one: the sink only observes. Occurrences of one term may overlap (e.g. one per
 * pronunciation); counting them as detections is the consumer's business (src/calibration).
 */
export interface ScoreSink {
  /** Lowest score the sink wants (in [0,1]); lower floors cost the detector more work. */
  readonly floor: number;
  score(occurrence: TermScore): void;
}

/**
 * Per-term thresholds that replace the vocabulary's (a site calibration), keyed by the normalised
 * term. A threshold here is final: no short-term raise or other adjustment is applied on top.
 */
export type ThresholdOverrides = ReadonlyMap<string, number>;
