/**
 * PocketSphinx keyword spotting (Debian's pocketsphinx 5-prealpha `pocketsphinx_continuous -kws`,
 * en-us acoustic model) on the same recording and terms, for a side-by-side with gearhear.
 * Pronunciations come from gearhear's compiled lexicon, so both look for the same phones.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lexiconPathFor } from '../../src/kws/lexicon.js';
import { termWords } from '../../src/kws/vocabulary.js';
import type { TimedTerm } from './scoring.js';

export const POCKETSPHINX_COMMAND = 'pocketsphinx_continuous';

export interface PocketsphinxOptions {
  /** Detection threshold exponent per phone: a phrase of n phones gets 1e-(n x this), clamped to [1e+30, 1e-50] (negative: stricter than 1). */
  exponentPerPhone: number;
}

export const POCKETSPHINX_DEFAULTS: PocketsphinxOptions = { exponentPerPhone: 1 };

export interface PocketsphinxRun {
  detections: TimedTerm[];
  wallSec: number;
  command: string;
}

/** Writes the dictionary and keyphrase list for `terms`, runs pocketsphinx on `wav`, parses its detections. */
export async function runPocketsphinx(wav: string, terms: readonly string[], vocabPath: string, o = POCKETSPHINX_DEFAULTS): Promise<PocketsphinxRun> {
  const lexicon = JSON.parse(await readFile(lexiconPathFor(vocabPath), 'utf8')) as { words: Record<string, string[]> };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-bench-psx-'));
  try {
    const dictLines: string[] = [];
    const words = new Set(terms.flatMap((t) => termWords(t)));
    for (const w of words) {
      const prons = lexicon.words[w];
      if (!prons) throw new Error(`${lexiconPathFor(vocabPath)} has no pronunciation of "${w}"; run gearhear vocab compile ${vocabPath}`);
      prons.forEach((p, i) => dictLines.push(`${i === 0 ? w : `${w}(${i + 1})`} ${p}`));
    }
    const kwsLines = terms.map((t) => {
      const phones = termWords(t).reduce((n, w) => n + lexicon.words[w]![0]!.split(' ').length, 0);
      // Negative exponents per phone give thresholds above 1: stricter than PocketSphinx's usual range.
      const exp = Math.min(50, Math.max(-30, Math.round(phones * o.exponentPerPhone)));
      return `${t} /1e${exp >= 0 ? '-' : '+'}${Math.abs(exp)}/`;
    });
    const dict = path.join(dir, 'terms.dict');
    const kws = path.join(dir, 'terms.kws');
    await writeFile(dict, dictLines.join('\n') + '\n');
    await writeFile(kws, kwsLines.join('\n') + '\n');
    const args = ['-infile', wav, '-kws', kws, '-dict', dict, '-time', 'yes', '-logfn', '/dev/null'];
    const t0 = performance.now();
    const stdout = await runCapture(POCKETSPHINX_COMMAND, args);
    const wallSec = (performance.now() - t0) / 1000;
    return { detections: parseKwsOutput(stdout, new Set(terms)), wallSec, command: `${POCKETSPHINX_COMMAND} ${args.join(' ')}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Lines `<phrase> <start> <end> <prob>` (seconds from the start of the file) for known phrases. */
export function parseKwsOutput(stdout: string, terms: ReadonlySet<string>): TimedTerm[] {
  const out: TimedTerm[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(.+?)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*$/.exec(line.trim());
    if (m && terms.has(m[1]!)) out.push({ term: m[1]!, start: Number(m[2]), end: Number(m[3]) });
  }
  return out;
}

async function runCapture(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on('error', (e) => reject(new Error(`could not run ${cmd} (install the Debian packages pocketsphinx and pocketsphinx-en-us): ${e.message}`, { cause: e })));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${err}`))));
  });
}
