/** bench:memory, vocab section: peak RSS of `gearhear detect` with vocabularies of growing size (issue 11, item 9). */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, repoRoot } from './lib/common.js';
import { runForPeak } from './lib/peak.js';
import { MAX_VOCABULARY_TERMS } from '../src/kws/vocabulary.js';

const CMU_DICT = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict'; // Debian pocketsphinx-en-us

export interface VocabRow { terms: number; peakMb: number; wallSec: number; code: number | null }

/** Two-word terms from the CMU dictionary; the first run per size also compiles the lexicon, so each size runs twice and the second is reported. */
export async function benchVocabulary(sizes = [5, 1000, 5000, MAX_VOCABULARY_TERMS, MAX_VOCABULARY_TERMS + 1]): Promise<VocabRow[]> {
  const words = (await readFile(CMU_DICT, 'utf8')).split('\n').map((l) => l.split(' ')[0]!).filter((w) => /^[a-z]{4,}$/.test(w));
  const dir = await cacheDir('memory-vocab');
  const audio = path.join(repoRoot, 'demo/machine-room.wav');
  const rows: VocabRow[] = [];
  for (const n of sizes) {
    const file = path.join(dir, `vocab-${n}.txt`);
    await writeFile(file, Array.from({ length: n }, (_, i) => `${words[2 * i]} ${words[2 * i + 1]}`).join('\n') + '\n');
    const args = [path.join(repoRoot, 'dist/src/cli/main.js'), 'detect', '--json', '--vad', 'energy', '--vocab', file, audio];
    await runForPeak(args);
    const run = await runForPeak(args);
    rows.push({ terms: n, peakMb: run.peakMb, wallSec: run.wallSec, code: run.code });
  }
  return rows;
}
