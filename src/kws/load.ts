import { compileVocabulary } from './compile.js';
import { loadLexiconFor, resolveVocabulary, type Lexicon, type ResolveDefaults } from './lexicon.js';
import { loadVocabulary, type ParsedVocabulary } from './vocabulary.js';
import type { KeywordSpec } from './types.js';
import { silentLogger, type Logger } from '../log.js';

export interface LoadedKeywords {
  vocab: ParsedVocabulary;
  lexicon: Lexicon;
  specs: KeywordSpec[];
}

export interface LoadKeywordsOptions {
  defaults: ResolveDefaults;
  /**
   * When the vocabulary has no compiled lexicon yet, compile one beside it (needs the CMU
   * dictionary and espeak-ng: a development machine, not a device). Default false.
   */
  compileIfMissing?: boolean;
  logger?: Logger;
}

/** Vocabulary file -> keyword specs ready for the search, through its compiled lexicon. */
export async function loadKeywords(vocabPath: string, options: LoadKeywordsOptions): Promise<LoadedKeywords> {
  const logger = options.logger ?? silentLogger;
  const vocab = await loadVocabulary(vocabPath);
  let lexicon;
  try {
    lexicon = await loadLexiconFor(vocabPath, vocab);
  } catch (err) {
    if (!options.compileIfMissing) throw err;
    const result = await compileVocabulary(vocabPath, { logger });
    logger.info('compiled pronunciations', { lexicon: result.outPath, words: result.words, fromG2p: result.fromG2p });
    lexicon = await loadLexiconFor(vocabPath, vocab);
  }
  return { vocab, lexicon, specs: resolveVocabulary(vocab, lexicon, options.defaults) };
}
