/**
 * Speech synthesis for `gearhear vocab compile` (development machine or a device with espeak-ng):
 * a term said by many Debian voices, alone, after a carrier phrase, or inside a sentence, with the
 * sample where the term ends. espeak-ng accents and variants with random rate and pitch, and, each
 * when installed, flite's voices, RHVoice's four permissively licensed English voices and SVOX Pico's
 * two (both with random rate and pitch; Debian non-free) and festival's diphone voices.
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeWav } from '../audio/wav-decode.js';

const run = promisify(execFile);
const SYNTH_TIMEOUT_MS = 20_000;

export const ENGINES = ['espeak-ng', 'flite', 'rhvoice', 'pico', 'festival'] as const;
export type Engine = (typeof ENGINES)[number];

export interface Voice {
  engine: Engine;
  name: string;
  rate: number;
  pitch: number;
}

const ESPEAK_ACCENTS = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];
const ESPEAK_VARIANTS = ['', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'klatt', 'klatt2', 'klatt3',
  'Andy', 'Annie', 'Denis', 'Gene', 'Lee', 'Mike', 'adam', 'anika', 'aunty', 'belinda', 'benjamin', 'caleb', 'david', 'ed',
  'edward', 'grandpa', 'iven', 'john', 'linda', 'max', 'michel', 'norbert', 'paul', 'quincy', 'rob', 'robert', 'steph', 'travis'];
const FLITE_VOICES = ['kal', 'kal16', 'awb', 'rms', 'slt'];
/** rhvoice-english's voices under LGPL-2.1+ (its evgeniy-eng and lyubov are CC BY-NC-ND: never used). */
const RHVOICE_VOICES = ['alan', 'bdl', 'clb', 'slt'];
const PICO_VOICES = ['en-US', 'en-GB'];
const FESTIVAL_VOICES = ['kal_diphone', 'ked_diphone'];

type OtherEngine = Exclude<Engine, 'espeak-ng'>;
/** The installed voices of each engine besides espeak-ng (an engine with none is absent). */
export type OtherVoices = ReadonlyMap<OtherEngine, readonly string[]>;

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const voicesIn = async (dir: string, names: readonly string[]): Promise<string[]> =>
  (await Promise.all(names.map(async (n) => ((await exists(path.join(dir, n))) ? n : null)))).filter((n): n is string => n !== null);

/** The engines besides espeak-ng, with the share of voices each takes when installed, and how to find its voices. */
const OTHER_ENGINES: ReadonlyArray<{ engine: OtherEngine; share: number; installed: () => Promise<string[]> }> = [
  { engine: 'flite', share: 0.2, installed: async () => {
    const listed = await run('flite', ['-lv'], { timeout: SYNTH_TIMEOUT_MS }).then((r) => ` ${r.stdout.replace(/^.*:/, '').trim()} `, () => '');
    return FLITE_VOICES.filter((v) => listed.includes(` ${v} `));
  } },
  { engine: 'rhvoice', share: 0.2, installed: async () => ((await hasProgram('RHVoice-test')) ? voicesIn('/usr/share/RHVoice/voices', RHVOICE_VOICES) : []) },
  { engine: 'pico', share: 0.1, installed: async () => ((await hasProgram('pico2wave', ['--usage'])) ? PICO_VOICES : []) },
  { engine: 'festival', share: 0.05, installed: async () => ((await hasProgram('text2wave')) ? voicesIn('/usr/share/festival/voices/english', FESTIVAL_VOICES) : []) },
];

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

/** Is `program` on PATH (answers `args`, by default --version)? */
export async function hasProgram(program: string, args = ['--version']): Promise<boolean> {
  try {
    await run(program, args, { timeout: SYNTH_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** The voices of the engines besides espeak-ng that are installed here. */
export async function installedVoices(): Promise<OtherVoices> {
  const found = await Promise.all(OTHER_ENGINES.map(async (e) => [e.engine, await e.installed()] as const));
  return new Map(found.filter(([, v]) => v.length > 0));
}

/** The voices as a compile records them: `espeak-ng`, then `engine:voice,voice` for each other engine. */
export function describeVoices(voices: OtherVoices): string[] {
  return ['espeak-ng', ...[...voices].map(([e, v]) => `${e}:${v.join(',')}`)];
}

/**
 * A random voice: each installed engine besides espeak-ng takes its share (flite 20 %, RHVoice 20 %,
 * Pico 10 %, festival 5 %), espeak-ng the rest.
 */
export function randomVoice(rng: () => number, voices: OtherVoices): Voice {
  let u = voices.size > 0 ? rng() : 1;
  for (const { engine, share } of OTHER_ENGINES) {
    const names = voices.get(engine);
    if (!names) continue;
    if (u < share) return otherVoice(engine, names, rng);
    u -= share;
  }
  const variant = pick(rng, ESPEAK_VARIANTS);
  const accent = pick(rng, ESPEAK_ACCENTS);
  return { engine: 'espeak-ng', name: variant ? `${accent}+${variant}` : accent, rate: 120 + Math.floor(rng() * 90), pitch: 20 + Math.floor(rng() * 60) };
}

function otherVoice(engine: OtherEngine, names: readonly string[], rng: () => number): Voice {
  const name = pick(rng, names);
  switch (engine) {
    case 'flite': case 'festival': return { engine, name, rate: 0, pitch: 0 };
    // Percent of the voice's own rate and pitch.
    case 'rhvoice': return { engine, name, rate: 75 + Math.floor(rng() * 65), pitch: 70 + Math.floor(rng() * 60) };
    case 'pico': return { engine, name, rate: 75 + Math.floor(rng() * 50), pitch: 75 + Math.floor(rng() * 50) };
  }
}

/** The command line that makes `voice` say `text` into `wav`, and what it reads on standard input. */
function synthCommand(text: string, voice: Voice, wav: string): { program: string; args: string[]; input?: string } {
  switch (voice.engine) {
    case 'espeak-ng': return { program: 'espeak-ng', args: ['-v', voice.name, '-s', String(voice.rate), '-p', String(voice.pitch), '-w', wav, text] };
    case 'flite': return { program: 'flite', args: ['-voice', voice.name, '-t', text, '-o', wav] };
    case 'rhvoice': return { program: 'RHVoice-test', args: ['-p', voice.name, '-r', String(voice.rate), '-t', String(voice.pitch), '-o', wav], input: text };
    case 'pico': return { program: 'pico2wave', args: ['-l', voice.name, '-w', wav, `<speed level='${voice.rate}'><pitch level='${voice.pitch}'>${text}</pitch></speed>`] };
    case 'festival': return { program: 'text2wave', args: ['-eval', `(voice_${voice.name})`, '-o', wav], input: text };
  }
}

/** What to install for each synthesiser (Debian). */
export const ENGINE_PACKAGES: Record<Engine, string> = { 'espeak-ng': 'espeak-ng', flite: 'flite', rhvoice: 'rhvoice rhvoice-english, from non-free', pico: 'libttspico-utils, from non-free', festival: 'festival festvox-kallpc16k festvox-kdlpc16k' };

/** Runs `program` with `input` on its standard input. */
function runWithInput(program: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: SYNTH_TIMEOUT_MS }, (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(input);
  });
}

/** `text` said by `voice`: 16 kHz samples in [-1, 1], untrimmed. */
export async function synthesize(text: string, voice: Voice): Promise<Float32Array> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-tts-'));
  const wav = path.join(dir, 'out.wav');
  try {
    const c = synthCommand(text, voice, wav);
    if (c.input === undefined) await run(c.program, c.args, { timeout: SYNTH_TIMEOUT_MS });
    else await runWithInput(c.program, c.args, c.input);
    return decodeWav(await readFile(wav), `${voice.engine} ${voice.name}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ENOENT' ? `; install it (apt-get install ${ENGINE_PACKAGES[voice.engine]})` : '';
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

/**
 * The installed voices of the synthesisers `names` (espeak-ng is always used; undefined: every one
 * installed), or the named ones that are not installed.
 */
export async function voicesNamed(names: readonly string[] | undefined): Promise<{ voices: OtherVoices; missing: string[] }> {
  const installed = await installedVoices();
  if (!names) return { voices: installed, missing: [] };
  const missing = names.filter((e) => e !== 'espeak-ng' && !installed.has(e as OtherEngine));
  return { voices: new Map([...installed].filter(([e]) => names.includes(e))), missing };
}
