/**
 * Speech synthesis for `gearhear vocab compile` (development machine or a device with espeak-ng):
 * a term said by many Debian voices, alone, after a carrier phrase, or inside a sentence, with the
 * sample where the term ends. espeak-ng accents and variants with random rate and pitch, and flite's
 * voices when flite is installed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeWav } from '../audio/wav-decode.js';

const run = promisify(execFile);
const SYNTH_TIMEOUT_MS = 20_000;

export interface Voice {
  engine: 'espeak-ng' | 'flite';
  name: string;
  rate: number;
  pitch: number;
}

const ESPEAK_ACCENTS = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];
const ESPEAK_VARIANTS = ['', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'klatt', 'klatt2', 'klatt3',
  'Andy', 'Annie', 'Denis', 'Gene', 'Lee', 'Mike', 'adam', 'anika', 'aunty', 'belinda', 'benjamin', 'caleb', 'david', 'ed',
  'edward', 'grandpa', 'iven', 'john', 'linda', 'max', 'michel', 'norbert', 'paul', 'quincy', 'rob', 'robert', 'steph', 'travis'];
const FLITE_VOICES = ['kal', 'kal16', 'awb', 'rms', 'slt'];

export const CARRIER_PREFIXES = ['i think the', 'there is a', 'we have', 'check the', 'it sounds like', 'the operator reported', 'we found',
  'i can hear', 'looks like', 'please look at the', 'there might be', 'again we have', 'maybe it is the', 'that is'];
export const CARRIER_SUFFIXES = ['on pump four', 'again today', 'near the motor', 'since this morning', 'on line two', 'in the back',
  'so call maintenance', 'and it is getting worse', 'right now', 'at the north end', 'after the restart', 'i guess'];

/** A small seeded generator (mulberry32), so a compile is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** Is `program` on PATH (answers --version)? */
export async function hasProgram(program: string): Promise<boolean> {
  try {
    await run(program, ['--version'], { timeout: SYNTH_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** A random voice: espeak-ng (4 in 5) or, when available, flite. */
export function randomVoice(rng: () => number, withFlite: boolean): Voice {
  if (withFlite && rng() < 0.2) return { engine: 'flite', name: pick(rng, FLITE_VOICES), rate: 0, pitch: 0 };
  const variant = pick(rng, ESPEAK_VARIANTS);
  const accent = pick(rng, ESPEAK_ACCENTS);
  return { engine: 'espeak-ng', name: variant ? `${accent}+${variant}` : accent, rate: 120 + Math.floor(rng() * 90), pitch: 20 + Math.floor(rng() * 60) };
}

/** `text` said by `voice`: 16 kHz samples in [-1, 1], untrimmed. */
export async function synthesize(text: string, voice: Voice): Promise<Float32Array> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-tts-'));
  const wav = path.join(dir, 'out.wav');
  try {
    if (voice.engine === 'espeak-ng') {
      await run('espeak-ng', ['-v', voice.name, '-s', String(voice.rate), '-p', String(voice.pitch), '-w', wav, text], { timeout: SYNTH_TIMEOUT_MS });
    } else {
      await run('flite', ['-voice', voice.name, '-t', text, '-o', wav], { timeout: SYNTH_TIMEOUT_MS });
    }
    return decodeWav(await readFile(wav), `${voice.engine} ${voice.name}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ENOENT' ? `; install it (apt-get install ${voice.engine})` : '';
    throw new Error(`${voice.engine} (${voice.name}) could not say "${text}": ${e.message}${hint}`, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** First and last sample louder than 1 % of the peak (the speech), or null for silence. */
export function speechBounds(x: Float32Array): { first: number; last: number } | null {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  if (peak === 0) return null;
  let first = 0, last = x.length - 1;
  while (Math.abs(x[first]!) < peak * 0.01) first++;
  while (Math.abs(x[last]!) < peak * 0.01) last--;
  return { first, last };
}

export type Placement = 'alone' | 'after carrier' | 'in sentence';

/**
 * `term` said by `voice` alone, after a carrier phrase, or inside a sentence: the speech (trimmed)
 * and the sample where the term ends. Inside a sentence, the end is where the same voice saying
 * "prefix term" stops, since the synthesiser says the prefix the same way in both.
 */
export async function sayTerm(term: string, voice: Voice, placement: Placement, rng: () => number): Promise<{ speech: Float32Array; end: number }> {
  const prefix = pick(rng, CARRIER_PREFIXES);
  const head = await synthesize(placement === 'alone' ? term : `${prefix} ${term}`, voice);
  const hb = speechBounds(head);
  if (!hb) throw new Error(`${voice.engine} (${voice.name}) said nothing for "${term}"`);
  if (placement !== 'in sentence') return { speech: head.slice(hb.first, hb.last + 1), end: hb.last - hb.first };
  const full = await synthesize(`${prefix} ${term} ${pick(rng, CARRIER_SUFFIXES)}`, voice);
  const fb = speechBounds(full)!;
  return { speech: full.slice(fb.first, fb.last + 1), end: Math.min(hb.last - hb.first, fb.last - fb.first) };
}
