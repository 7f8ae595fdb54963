/**
 * The compiled lexicon (`<vocab>.lexicon.json`): every word of every term -> its pronunciations.
 * Built at development time by compile.ts (CMU dictionary + G2P); read at runtime, where no G2P exists.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArpabet, type Phone } from '../model/phones.js';
import { KEYWORD_SEARCH_DEFAULTS } from './search-options.js';
import type { KeywordSpec, VocabTerm, Vocabulary } from './types.js';
import { loadVocabulary, termWords, type ParsedVocabulary } from './vocabulary.js';

export const LEXICON_FORMAT = 'gearhear-lexicon/1';
/** Multi-word terms expand to every combination of word pronunciations, up to this many. */
export const MAX_PRONUNCIATIONS_PER_TERM = 8;

/**
 * The vocabulary cannot be used as it is: a missing, damaged or stale lexicon, or a term the keyword
 * search would refuse. Fixing it needs a person (exit 78 at start, like a configuration error).
 */
export class LexiconError extends Error {
  /** One line per problem, each naming the file (and line, for a term). */
  readonly problems: string[];

  constructor(message: string, options?: { cause?: unknown; problems?: string[] }) {
    super(message, options);
    this.name = 'LexiconError';
    this.problems = options?.problems ?? [message];
  }
}

/** Fewer phones than this: the term would fire on almost any speech. The keyword search applies the same rule. */
export const MIN_TERM_PHONES = KEYWORD_SEARCH_DEFAULTS.minPhones;

export interface Lexicon {
  file: string;
  /** Version of the vocabulary it was compiled from (informational: staleness is judged by missing words). */
  vocabularyVersion: string;
  words: ReadonlyMap<string, Phone[][]>;
  /** Words whose pronunciations came from G2P rather than the dictionary (worth a human check). */
  fromG2p: ReadonlySet<string>;
}

/** What the lexicon file holds on disk; phones are space-separated strings for readable diffs. */
export interface LexiconFile {
  format: typeof LEXICON_FORMAT;
  vocabulary: string;
  vocabularyVersion: string;
  dictionary: string;
  g2p: string;
  fromG2p: string[];
  words: Record<string, string[]>;
}

export interface ResolveDefaults {
  threshold: number;
  boost: number;
}

/** `vocab/mechanical-en.txt` -> `vocab/mechanical-en.lexicon.json`. */
/** A file kept beside the vocabulary: `plant.txt` -> `plant<suffix>` (a .txt or .vocab extension is dropped). */
export function vocabularySibling(vocabPath: string, suffix: string): string {
  const ext = path.extname(vocabPath);
  const base = ext === '.txt' || ext === '.vocab' ? vocabPath.slice(0, -ext.length) : vocabPath;
  return `${base}${suffix}`;
}

export function lexiconPathFor(vocabPath: string): string {
  return vocabularySibling(vocabPath, '.lexicon.json');
}

export function formatLexicon(data: LexiconFile): string {
  const words = Object.fromEntries(Object.keys(data.words).sort().map((w) => [w, data.words[w]]));
  const fromG2p = [...data.fromG2p].sort();
  // One word per line keeps `git diff` of a recompiled lexicon readable.
  const wordLines = Object.entries(words).map(([w, prons]) => `    ${JSON.stringify(w)}: ${JSON.stringify(prons)}`);
  const head = JSON.stringify({ ...data, fromG2p, words: undefined }, null, 2).replace(/\n}$/, '');
  return `${head},\n  "words": {\n${wordLines.join(',\n')}\n  }\n}\n`;
}

export function parseLexicon(text: string, file: string): Lexicon {
  const fail = (what: string): never => {
    throw new LexiconError(`lexicon ${file}: ${what}; recompile it with \`gearhear vocab compile <vocabulary>\``);
  };
  let data: Partial<LexiconFile>;
  try {
    data = JSON.parse(text) as Partial<LexiconFile>;
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message})`);
  }
  if (data.format !== LEXICON_FORMAT) fail(`format is ${JSON.stringify(data.format)}, expected "${LEXICON_FORMAT}"`);
  if (typeof data.words !== 'object' || data.words === null) fail('has no "words" object');
  const words = new Map<string, Phone[][]>();
  for (const [word, prons] of Object.entries(data.words ?? {})) {
    if (!Array.isArray(prons) || prons.length === 0) fail(`word "${word}" has no pronunciations`);
    try {
      words.set(word, prons.map((p) => parseArpabet(String(p))));
    } catch (err) {
      fail(`word "${word}": ${(err as Error).message}`);
    }
  }
  return { file, vocabularyVersion: String(data.vocabularyVersion ?? ''), words, fromG2p: new Set(data.fromG2p ?? []) };
}

export async function loadLexicon(file: string): Promise<Lexicon> {
  return parseLexicon(await readFile(file, 'utf8'), file);
}

/** Terms that need the lexicon: those without their own pron= override. */
function lexiconTerms(vocab: Vocabulary): VocabTerm[] {
  return vocab.terms.filter((t) => !t.pronunciations || t.pronunciations.length === 0);
}

/** Words used by terms without pron= that the lexicon lacks, sorted. */
export function missingWords(vocab: Vocabulary, lexicon: Lexicon): string[] {
  const missing = new Set<string>();
  for (const t of lexiconTerms(vocab)) for (const w of termWords(t.term)) if (!lexicon.words.has(w)) missing.add(w);
  return [...missing].sort();
}

/**
 * Finds the sibling `.lexicon.json` of a vocabulary and checks that it covers every word.
 * Missing file or missing words -> an error that says what to run.
 */
export async function loadLexiconFor(vocabPath: string, vocab?: Vocabulary): Promise<Lexicon> {
  const file = lexiconPathFor(vocabPath);
  let lexicon: Lexicon;
  try {
    lexicon = await loadLexicon(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new LexiconError(`no lexicon ${file} for vocabulary ${vocabPath}; run \`gearhear vocab compile ${vocabPath}\``, { cause: err });
  }
  const missing = missingWords(vocab ?? (await loadVocabulary(vocabPath)), lexicon);
  if (missing.length > 0) {
    throw new LexiconError(
      `lexicon ${file} is stale: no pronunciation for ${missing.map((w) => `"${w}"`).join(', ')}; ` +
        `run \`gearhear vocab compile ${vocabPath}\` or add pron="..." to those terms`,
    );
  }
  return lexicon;
}

/** Every combination of the words' pronunciations (primary ones first), deduplicated and capped. */
export function combinePronunciations(perWord: readonly Phone[][][], cap = MAX_PRONUNCIATIONS_PER_TERM): Phone[][] {
  let combos: Phone[][] = [[]];
  for (const prons of perWord) {
    const next: Phone[][] = [];
    for (const head of combos) for (const p of prons) if (next.length < cap) next.push([...head, ...p]);
    combos = next;
  }
  const seen = new Set<string>();
  return combos.filter((c) => !seen.has(c.join(' ')) && seen.add(c.join(' ')));
}

/**
 * Vocabulary + lexicon -> what the keyword search is built from. A term's pron= overrides replace the
 * lexicon's pronunciations. Terms with no pronunciation are all listed in one error.
 */
export function resolveVocabulary(vocab: Vocabulary, lexicon: Lexicon, defaults: ResolveDefaults): KeywordSpec[] {
  const problems: string[] = [];
  let needsCompile = false;
  const specs: KeywordSpec[] = [];
  for (const t of vocab.terms) {
    let pronunciations = t.pronunciations && t.pronunciations.length > 0 ? t.pronunciations : null;
    if (!pronunciations) {
      const words = termWords(t.term);
      const absent = words.filter((w) => !lexicon.words.has(w));
      if (absent.length > 0) {
        problems.push(`${t.file}:${t.line}: term "${t.term}" has no pronunciation for ${absent.map((w) => `"${w}"`).join(', ')}`);
        needsCompile = true;
        continue;
      }
      pronunciations = combinePronunciations(words.map((w) => lexicon.words.get(w) ?? []));
    }
    const short = pronunciations.filter((p) => p.length < MIN_TERM_PHONES);
    if (short.length > 0) {
      problems.push(`${t.file}:${t.line}: term "${t.term}" is pronounced ${short.map((p) => `"${p.join(' ')}"`).join(', ')}: ` +
        `fewer than ${MIN_TERM_PHONES} phones would fire on almost any speech; use a longer term (e.g. a two-word phrase)`);
      continue;
    }
    specs.push({
      term: t.term,
      category: t.category,
      severity: t.severity,
      threshold: t.threshold ?? defaults.threshold,
      boost: t.boost ?? defaults.boost,
      pronunciations: pronunciations.map((p) => [...p]),
    });
  }
  if (problems.length > 0) {
    const fix = needsCompile
      ? `\nfix: run \`gearhear vocab compile ${vocab.file}\` to update ${lexicon.file}, or add pron="..." (ARPAbet) to the term's line`
      : '';
    throw new LexiconError(`${problems.join('\n')}${fix}`, { problems });
  }
  return specs;
}

export interface VocabularyCheck {
  file: string;
  version: string;
  terms: number;
  categories: Record<string, number>;
  severities: Record<string, number>;
  lexicon: string;
  /** Null when the lexicon file exists and parses; otherwise why it could not be used. */
  lexiconProblem: string | null;
  /** Words (of terms without pron=) that have no pronunciation in the lexicon. */
  missingWords: string[];
  /** Words whose lexicon pronunciation came from G2P. */
  g2pWords: string[];
  /** Terms the keyword search would refuse (the rule `run` and `detect` apply), each with file and line. */
  termProblems: string[];
  warnings: string[];
  ok: boolean;
}

/** Summary for `gearhear vocab check`. Vocabulary syntax errors throw; lexicon problems are reported. */
export async function checkVocabulary(vocabPath: string): Promise<VocabularyCheck> {
  const vocab: ParsedVocabulary = await loadVocabulary(vocabPath);
  const count = (key: (t: VocabTerm) => string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const t of vocab.terms) out[key(t)] = (out[key(t)] ?? 0) + 1;
    return out;
  };
  const lexiconFile = lexiconPathFor(vocabPath);
  let lexicon: Lexicon | null = null;
  let lexiconProblem: string | null = null;
  try {
    lexicon = await loadLexicon(lexiconFile);
  } catch (err) {
    const missingFile = (err as NodeJS.ErrnoException).code === 'ENOENT';
    lexiconProblem = missingFile ? `the lexicon ${lexiconFile} is missing (it is compiled from the vocabulary)` : (err as Error).message;
  }
  const missing = lexicon ? missingWords(vocab, lexicon) : [...new Set(lexiconTerms(vocab).flatMap((t) => termWords(t.term)))].sort();
  let termProblems: string[] = [];
  if (lexicon && missing.length === 0) {
    try {
      resolveVocabulary(vocab, lexicon, { threshold: 0.5, boost: 0 });
    } catch (err) {
      if (!(err instanceof LexiconError)) throw err;
      termProblems = err.problems;
    }
  }
  return {
    file: vocabPath,
    version: vocab.version,
    terms: vocab.terms.length,
    categories: count((t) => t.category),
    severities: count((t) => t.severity),
    lexicon: lexiconFile,
    lexiconProblem,
    missingWords: missing,
    g2pWords: lexicon ? [...lexicon.fromG2p].sort() : [],
    warnings: vocab.warnings,
    termProblems,
    ok: lexiconProblem === null && missing.length === 0 && termProblems.length === 0,
  };
}
