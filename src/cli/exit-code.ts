import { ConfigError, EX_CONFIG } from '../config/errors.js';
import { SiteHeadsError } from '../enrol/site-heads.js';
import { CompiledHeadsError } from '../kws/compiled-heads.js';
import { LexiconError } from '../kws/lexicon.js';
import { RealSpeechError } from '../kws/real-words.js';
import { VocabularyError } from '../kws/vocabulary.js';
import { ModelLoadError } from '../model/manifest.js';

/**
 * Exit code for a failure that ends a command: 78 (EX_CONFIG) when a person has to fix something
 * first (the configuration, the vocabulary or its lexicon, the model files, a real-speech manifest), so systemd
 * (RestartPreventExitStatus=78) does not restart into the same failure forever; else 1.
 */
export function exitCodeFor(err: unknown): number {
  const needsAPerson = err instanceof ConfigError || err instanceof VocabularyError || err instanceof LexiconError || err instanceof ModelLoadError || err instanceof CompiledHeadsError || err instanceof SiteHeadsError || err instanceof RealSpeechError;
  return needsAPerson ? EX_CONFIG : 1;
}
