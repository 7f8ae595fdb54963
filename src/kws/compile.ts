/**
 * `gearhear vocab compile`: vocabulary -> `<vocab>.lexicon.json`, every word's pronunciations from the
 * CMU dictionary, with G2P only for words the dictionary lacks. Runs on a development machine.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Phone } from '../model/phones.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { DEFAULT_CMUDICT, espeakG2p, readCmuDict, type G2p } from './g2p.js';
import { combinePronunciations, formatLexicon, LEXICON_FORMAT, lexiconPathFor, parseLexicon, type Lexicon } from './lexicon.js';
import { loadVocabulary, termWords } from './vocabulary.js';

export interface CompileOptions {
  /** CMU-format dictionary (default: pocketsphinx-en-us's cmudict-en-us.dict). */
  dictPath?: string;
  /** Fallback for words not in the dictionary (default: espeak-ng, whose mapping matched CMU best). */
  g2p?: G2p;
  /** Where to write (default: the vocabulary's sibling `.lexicon.json`). */
  outPath?: string;
  logger?: Logger;
}

export interface CompileResult {
  outPath: string;
  vocabularyVersion: string;
  /** Number of distinct words in the lexicon. */
  words: number;
  fromDictionary: string[];
  /** Words (or hyphenated words with a part) pronounced by G2P: worth a listen, or a pron= override. */
  fromG2p: string[];
  lexicon: Lexicon;
}

/** Hyphenated words the dictionary lacks are pronounced part by part ("o-ring" -> "o" + "ring"). */
function wordParts(word: string): string[] {
  return word.split('-').filter(Boolean);
}

async function pronounceWithG2p(word: string, g2p: G2p): Promise<Phone[]> {
  try {
    return await g2p.pronounce(word);
  } catch (err) {
    throw new Error(`G2P (${g2p.name}) failed for "${word}": ${(err as Error).message}; add pron="..." to the term instead`, { cause: err });
  }
}

export async function compileVocabulary(vocabPath: string, options: CompileOptions = {}): Promise<CompileResult> {
  const dictPath = options.dictPath ?? DEFAULT_CMUDICT;
  const g2p = options.g2p ?? espeakG2p();
  const outPath = options.outPath ?? lexiconPathFor(vocabPath);
  const logger = options.logger ?? silentLogger;

  const vocab = await loadVocabulary(vocabPath);
  const words = [...new Set(vocab.terms.flatMap((t) => termWords(t.term)))].sort();
  const lookups = new Set(words.flatMap((w) => [w, ...wordParts(w)]));
  const dict = await readCmuDict(dictPath, lookups);

  const entries: Record<string, string[]> = {};
  const fromDictionary: string[] = [];
  const fromG2p: string[] = [];
  for (const word of words) {
    let prons = dict.get(word);
    if (prons) {
      fromDictionary.push(word);
    } else {
      let usedG2p = false;
      const perPart: Phone[][][] = [];
      for (const part of wordParts(word)) {
        const known = dict.get(part);
        if (!known) usedG2p = true;
        perPart.push(known ?? [await pronounceWithG2p(part, g2p)]);
      }
      prons = combinePronunciations(perPart);
      (usedG2p ? fromG2p : fromDictionary).push(word);
      if (usedG2p) logger.info('pronounced by G2P', { word, g2p: g2p.name, phones: prons[0].join(' ') });
    }
    entries[word] = prons.map((p) => p.join(' '));
  }

  const text = formatLexicon({
    format: LEXICON_FORMAT,
    vocabulary: path.basename(vocabPath),
    vocabularyVersion: vocab.version,
    dictionary: path.basename(dictPath),
    g2p: g2p.name,
    fromG2p,
    words: entries,
  });
  const lexicon = parseLexicon(text, outPath); // validates what is about to be written
  // Write then rename: a running daemon watching the directory never reads a half-written file.
  const tmp = `${outPath}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, outPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`cannot write lexicon ${outPath}: ${(err as Error).message}`, { cause: err });
  }
  logger.info('lexicon written', { file: outPath, words: words.length, fromG2p: fromG2p.length });
  return { outPath, vocabularyVersion: vocab.version, words: words.length, fromDictionary, fromG2p, lexicon };
}
