/** Vocabulary files: one term per line, optional `| key=value` attributes (format in docs/vocabulary.md). */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ARPABET_PHONES, parseArpabet, type Phone } from '../model/phones.js';
import type { Severity, VocabTerm, Vocabulary } from './types.js';

import { SEVERITIES } from '../detection.js';

export { SEVERITIES };
export const DEFAULT_CATEGORY = 'general';
export const DEFAULT_SEVERITY: Severity = 'medium';
/** Boosts outside this range swamp the acoustic score; they are almost certainly typos. */
export const BOOST_LIMIT = 10;
export const ATTRIBUTE_KEYS = ['category', 'severity', 'threshold', 'boost', 'pron'] as const;
const KEY_ALIASES: Record<string, (typeof ATTRIBUTE_KEYS)[number]> = {
  category: 'category', cat: 'category', severity: 'severity', sev: 'severity', threshold: 'threshold',
  boost: 'boost', pron: 'pron', pronunciation: 'pron',
};
/**
 * The supported vocabulary size (issue 11, item 9). Each term costs about 7 KB once compiled into
 * the keyword search; 10,000 two-word terms peak at 188 MB in `detect` (116 MB with the shipped
 * vocabulary), inside the 300 MB budget with room for the daemon's queues. 100,000 took 341 MB.
 */
export const MAX_VOCABULARY_TERMS = 10_000;
/** Far above what MAX_VOCABULARY_TERMS lines need (~60 bytes each): a larger file is not a vocabulary. */
export const MAX_VOCABULARY_BYTES = 4 * 1024 * 1024;
const TERM_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}' -]*$/u;
const CATEGORY_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** A parsed vocabulary plus non-fatal findings (identical duplicates). */
export interface ParsedVocabulary extends Vocabulary {
  warnings: string[];
}

/** One or more problems in a vocabulary file; `issues` holds one `file:line: ...` message each. */
export class VocabularyError extends Error {
  constructor(readonly file: string, readonly issues: string[]) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'} in vocabulary:\n  ${issues.join('\n  ')}`);
    this.name = 'VocabularyError';
  }
}

/** Lower-case, single spaces, trimmed: the form terms are compared and looked up in. */
export function normalizeTerm(text: string): string {
  return text.normalize('NFC').trim().toLowerCase().replace(/\s+/g, ' ');
}

/** The words a term is pronounced as, in lexicon key form ("Oil  Leak" -> ["oil","leak"]). */
export function termWords(term: string): string[] {
  return normalizeTerm(term).split(' ').filter(Boolean);
}

/** Removes a `#` comment; quotes count only after the "|" (a term may contain an apostrophe). */
function stripComment(line: string): string {
  let quote = '';
  let inAttributes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) { if (ch === quote) quote = ''; }
    else if (ch === '#') return line.slice(0, i);
    else if (ch === '|') inAttributes = true;
    else if (inAttributes && (ch === '"' || ch === "'")) quote = ch;
  }
  return line;
}

type RawAttribute = { key: string; value: string };

/** `a=1, b: "x y" pron=AH B` -> pairs. An unquoted pron runs up to the next `key=`. */
function splitAttributes(text: string): RawAttribute[] {
  const out: RawAttribute[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const head = /^([A-Za-z_-]+)\s*[=:]\s*/.exec(rest);
    if (!head) throw new Error(`expected key=value at "${rest}" (keys: ${ATTRIBUTE_KEYS.join(', ')})`);
    const key = head[1].toLowerCase();
    rest = rest.slice(head[0].length);
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const end = rest.indexOf(quote, 1);
      if (end < 0) throw new Error(`unterminated ${quote} in value of ${key}`);
      value = rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else {
      const stop = KEY_ALIASES[key] === 'pron' ? rest.search(/[\s,]+[A-Za-z_-]+\s*[=:]/) : rest.search(/[\s,]/);
      value = stop < 0 ? rest : rest.slice(0, stop);
      rest = stop < 0 ? '' : rest.slice(stop);
    }
    out.push({ key, value: value.trim() });
    rest = rest.replace(/^[\s,]+/, '');
  }
  return out;
}

function parseNumber(key: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${key}=${value} is not a number in [${min},${max}]`);
  }
  return n;
}

function parsePronunciations(value: string): Phone[][] {
  const prons = value.split(/[;\/]/).map((p) => p.trim()).filter(Boolean);
  if (prons.length === 0) throw new Error(`pron is empty (give ARPAbet phones, e.g. pron="B EH R IH NG")`);
  return prons.map((p) => {
    try {
      return parseArpabet(p);
    } catch {
      const bad = p.split(/\s+/).find((x) => !(ARPABET_PHONES as readonly string[]).includes(x.toUpperCase().replace(/[0-2]$/, '')));
      throw new Error(`pron "${p}" has unknown phone "${bad}" (allowed: ${ARPABET_PHONES.join(' ')}; stress digits 0-2 are ignored)`);
    }
  });
}

/** Applies one `key=value` attribute to a term; throws with a message naming the key and what is allowed. */
function applyAttribute(term: VocabTerm, key: string, value: string): void {
  const canonical = KEY_ALIASES[key];
  if (!canonical) throw new Error(`unknown attribute "${key}" (allowed: ${ATTRIBUTE_KEYS.join(', ')})`);
  if (canonical === 'category') {
    const category = value.toLowerCase();
    if (!CATEGORY_PATTERN.test(category)) throw new Error(`category "${value}" must be a lower-case name like "leak" or "safety"`);
    term.category = category;
  } else if (canonical === 'severity') {
    const severity = value.toLowerCase() as Severity;
    if (!SEVERITIES.includes(severity)) throw new Error(`severity "${value}" is not one of ${SEVERITIES.join('|')}`);
    term.severity = severity;
  } else if (canonical === 'threshold') {
    term.threshold = parseNumber('threshold', value, 0, 1);
  } else if (canonical === 'boost') {
    term.boost = parseNumber('boost', value, -BOOST_LIMIT, BOOST_LIMIT);
  } else {
    term.pronunciations = [...(term.pronunciations ?? []), ...parsePronunciations(value)];
  }
}

/** A line's term (null when blank, a comment or wrong) and every problem of it: a bad term and each bad attribute. */
type LineResult = { term: VocabTerm | null; problems: string[] };

/** One line -> a term (null for blank/comment lines) and its problems, each without the location. */
function parseLine(raw: string, file: string, line: number): LineResult {
  const text = stripComment(raw).trim();
  if (!text) return { term: null, problems: [] };
  const bar = text.indexOf('|');
  const termText = normalizeTerm(bar < 0 ? text : text.slice(0, bar));
  if (!termText) return { term: null, problems: ['attributes without a term (write the term before the "|")'] };
  if (bar < 0 && /[=:]/.test(termText)) return { term: null, problems: [`put attributes after a "|", e.g. "oil leak | severity=high"`] };
  const problems: string[] = [];
  if (!TERM_PATTERN.test(termText)) problems.push(`term "${termText}" may only contain letters, digits, spaces, hyphens and apostrophes`);
  const term: VocabTerm = { term: termText, category: DEFAULT_CATEGORY, severity: DEFAULT_SEVERITY, file, line };
  const attributes = (): RawAttribute[] => (bar < 0 ? [] : splitAttributes(text.slice(bar + 1)));
  try {
    for (const { key, value } of attributes()) {
      try {
        applyAttribute(term, key, value);
      } catch (err) {
        problems.push(`term "${termText}": ${(err as Error).message}`);
      }
    }
  } catch (err) {
    problems.push(`term "${termText}": ${(err as Error).message}`); // the attributes cannot be split at all
  }
  return { term: problems.length > 0 ? null : term, problems };
}

/** Canonical one-line form of a term: what the version hash covers (comments and spacing do not count). */
function canonicalTerm(t: VocabTerm): string {
  return [t.term, t.category, t.severity, t.threshold ?? '', t.boost ?? '', pronunciationsText(t)].join('|');
}

const pronunciationsText = (t: VocabTerm): string => (t.pronunciations ?? []).map((p) => p.join(' ')).join(';');

/**
 * What a term's scores depend on in its line: the term, its boost and its pronunciations (not its
 * category, severity or threshold). A calibration made for this key stays valid for the term when
 * other lines of the vocabulary change.
 */
export function termScoringKey(t: VocabTerm): string {
  return [t.term, t.boost ?? '', pronunciationsText(t)].join('|');
}

export function vocabularyVersion(terms: readonly VocabTerm[]): string {
  return createHash('sha256').update(terms.map(canonicalTerm).join('\n')).digest('hex').slice(0, 12);
}

/**
 * Parses vocabulary text. All problems are collected and thrown together as a VocabularyError;
 * a duplicate with identical attributes is only a warning (the first is kept), a conflicting one is an error.
 */
export function parseVocabulary(text: string, file: string): ParsedVocabulary {
  const terms: VocabTerm[] = [];
  const issues: string[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, VocabTerm>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const { term, problems } = parseLine(raw, file, line);
    for (const p of problems) issues.push(`${file}:${line}: ${p}`);
    if (!term) return;
    const first = seen.get(term.term);
    if (!first) {
      seen.set(term.term, term);
      terms.push(term);
    } else if (canonicalTerm(first) === canonicalTerm(term)) {
      warnings.push(`${file}:${line}: term "${term.term}" repeats line ${first.line}; the repeat is ignored`);
    } else {
      issues.push(`${file}:${line}: term "${term.term}" is already defined on line ${first.line} with other attributes; keep one`);
    }
  });
  if (issues.length === 0 && terms.length === 0) issues.push(`${file}: no terms (write one term per line, e.g. "bearing")`);
  if (terms.length > MAX_VOCABULARY_TERMS) {
    issues.push(
      `${file}: ${terms.length} terms; gearhear supports at most ${MAX_VOCABULARY_TERMS} per vocabulary (memory: each term costs ` +
        'about 7 KB of the 300 MB budget); keep the terms this machine must hear, or split them across devices',
    );
  }
  if (issues.length > 0) throw new VocabularyError(file, issues);
  return { file, version: vocabularyVersion(terms), terms, warnings };
}

/** Why a vocabulary path cannot be read, for the errors that only a person can fix. */
const UNREADABLE: Record<string, string> = {
  ENOENT: 'it does not exist', EISDIR: 'it is a directory, not a vocabulary file', ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'it is not readable by this user', EPERM: 'it is not readable by this user', ELOOP: 'too many symbolic links',
};

export async function loadVocabulary(path: string): Promise<ParsedVocabulary> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_VOCABULARY_BYTES) {
      throw new VocabularyError(path, [
        `${path}: ${size} bytes, over the ${MAX_VOCABULARY_BYTES}-byte limit for a vocabulary (at most ${MAX_VOCABULARY_TERMS} terms); is this the right file?`,
      ]);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof VocabularyError) throw err;
    const reason = UNREADABLE[(err as NodeJS.ErrnoException).code ?? ''];
    // A path a person has to fix (exit 78); other errors (EIO, EMFILE) may pass and stay plain faults.
    if (reason) throw new VocabularyError(path, [`cannot read vocabulary ${path}: ${reason}`]);
    throw new Error(`cannot read vocabulary ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseVocabulary(text, path);
}
