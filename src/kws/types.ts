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
