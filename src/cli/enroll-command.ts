/**
 * `gearhear enroll TERM --from FILE|DIR...` and `gearhear enroll list|remove|export`: the site's takes
 * of its vocabulary terms (src/enrol/store.ts), checked and trimmed (src/enrol/take-check.ts).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { createAudioSource } from '../audio/index.js';
import { readWavFile } from '../audio/file.js';
import { TakeCapture } from '../enrol/capture.js';
import { createLogger } from '../log.js';
import { createGate } from '../vad/index.js';
import { EX_CONFIG } from '../config/index.js';
import type { GearhearConfig } from '../config/types.js';
import { audioSourceOptions, audioSourceSpec, gateOptions } from '../daemon/wiring.js';
import { addTake, applyRetention, listTakes, removeTake, type Retention, type TakeRecord } from '../enrol/store.js';
import { checkTake, TakeError } from '../enrol/take-check.js';
import { editDistance } from '../evidence/requests.js';
import { loadVocabulary } from '../kws/vocabulary.js';
import { loadConfigOrReport } from './run-command.js';
import { shownPath } from './shown-path.js';
import { EX_USAGE, parseCommandArgs, usageError } from './usage.js';

/** sysexits.h EX_DATAERR: the input data (a take) was wrong. */
export const EX_DATAERR = 65;

export function retentionOf(c: GearhearConfig): Retention {
  return { maxTakesPerTerm: c.enrolment.maxTakesPerTerm, maxAgeMs: c.enrolment.maxAgeH * 3600_000 };
}

export async function runEnroll(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('enroll', {
    args, allowPositionals: true,
    options: {
      from: { type: 'string', multiple: true }, takes: { type: 'string' }, wait: { type: 'string' }, play: { type: 'boolean' }, who: { type: 'string' }, term: { type: 'string' }, json: { type: 'boolean' },
      out: { type: 'string' }, config: { type: 'string' }, set: { type: 'string', multiple: true },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  if (first === undefined) return usageError('enroll', 'name a term to enrol (or list, remove, export)');
  const config = loadConfigOrReport(values);
  if (!config) return EX_CONFIG;
  const stateDir = config.state.dir;
  if (first === 'list' || first === 'export') {
    if (rest.length > 0) return usageError('enroll', `${first} takes no other arguments`);
    if (first === 'export' && !values.out) return usageError('enroll', 'export needs --out DIR');
    await applyRetention(stateDir, retentionOf(config));
    const { takes, skipped } = await listTakes(stateDir, { term: values.term });
    for (const s of skipped) process.stderr.write(`gearhear enroll: skipped ${s} (unreadable, or its WAV is missing)\n`);
    if (first === 'list') {
      for (const t of takes) process.stdout.write(values.json ? `${JSON.stringify(t)}\n` : `${t.takeId}  ${t.at}  ${t.term.padEnd(16)} ${t.who.padEnd(12)} ${t.speechSec.toFixed(2)} s  ${t.levelDbfs} dBFS  from ${t.source}\n`);
      if (!values.json) process.stderr.write(`${takes.length} take(s) in ${path.join(stateDir, 'enrolment')}\n`);
      return 0;
    }
    const out = path.resolve(values.out!);
    await mkdir(out, { recursive: true });
    for (const t of takes) {
      await copyFile(t.wavPath, path.join(out, `${t.takeId}.wav`));
      await copyFile(t.metaPath, path.join(out, `${t.takeId}.json`));
    }
    process.stdout.write(`exported ${takes.length} take(s) to ${out}\n`);
    return 0;
  }
  if (first === 'remove') return remove(stateDir, rest, values);
  const term = [first, ...rest].join(' ').trim().toLowerCase().replace(/\s+/g, ' ');
  const vocab = await loadVocabulary(config.vocab.file);
  if (!vocab.terms.some((t) => t.term === term)) {
    const near = vocab.terms.map((t) => t.term).sort((a, b) => editDistance(term, a) - editDistance(term, b)).slice(0, 3);
    process.stderr.write(`gearhear enroll: "${term}" is not a term of the vocabulary ${config.vocab.file}${near.length ? ` (the closest: ${near.join(', ')})` : ''}; add it there first (then gearhear vocab compile), or name one of its terms\n`);
    return EX_USAGE;
  }
  const who = values.who ?? os.userInfo().username;
  if (!values.from || values.from.length === 0) {
    const takes = values.takes === undefined ? DEFAULT_TAKES : Number(values.takes);
    const wait = values.wait === undefined ? DEFAULT_WAIT_S : Number(values.wait);
    if (!(Number.isInteger(takes) && takes >= 1 && takes <= 50)) return usageError('enroll', `--takes must be a whole number from 1 to 50, got "${values.takes}"`);
    if (!(wait > 0 && wait <= 600)) return usageError('enroll', `--wait must be seconds in (0, 600], got "${values.wait}"`);
    return enrollFromSource(config, term, who, takes, wait, values.play === true);
  }
  const files = await wavFiles(values.from);
  if (typeof files === 'string') {
    process.stderr.write(`gearhear enroll: ${files}\n`);
    return EX_USAGE;
  }
  let refused = 0, kept = 0;
  for (const file of files) {
    try {
      const take = await checkTake(await readWavFile(file), shownPath(file), gateOptions(config));
      const r: TakeRecord = await addTake(stateDir, term, take, who, path.basename(file), retentionOf(config));
      kept++;
      process.stdout.write(`kept ${r.takeId}: "${term}" from ${shownPath(file)} (${r.speechSec.toFixed(2)} s of speech at ${r.levelDbfs} dBFS)\n`);
    } catch (err) {
      if (!(err instanceof TakeError) && (err as Error).name !== 'AudioSourceError') throw err;
      refused++;
      process.stderr.write(`gearhear enroll: refused ${(err as Error).message}\n`);
    }
  }
  const total = (await listTakes(stateDir, { term })).takes.length;
  process.stdout.write(`${kept} take(s) kept, ${refused} refused; "${term}" has ${total} take(s) in ${path.join(stateDir, 'enrolment')}${total >= config.enrolment.minTakes ? '; run gearhear adapt' : ` (gearhear adapt needs ${config.enrolment.minTakes})`}\n`);
  return refused > 0 ? EX_DATAERR : 0;
}

const DEFAULT_TAKES = 5;
const DEFAULT_WAIT_S = 10;

/**
 * Guided enrolment from the configured audio source (audio.source: the microphone, or a file or
 * stdin): "say 'TERM' — i of N", the next speech segment the gate hears is the take, checked and
 * kept or refused with why (then asked again, at most N more times).
 */
async function enrollFromSource(config: GearhearConfig, term: string, who: string, count: number, waitS: number, play: boolean): Promise<number> {
  const logger = createLogger('warn');
  const source = createAudioSource(audioSourceSpec(config), audioSourceOptions(config, logger));
  const gate = await createGate(gateOptions(config, logger));
  const capture = new TakeCapture(source, gate);
  let kept = 0, refused = 0;
  try {
    await capture.start();
    process.stderr.write(`gearhear enroll: listening on ${source.description}\n`);
    while (kept < count && refused <= count) {
      capture.discardIfLive();
      process.stderr.write(`say '${term}' — ${kept + 1} of ${count}\n`);
      const audio = await capture.next(waitS * 1000);
      if (!audio) {
        process.stderr.write(`gearhear enroll: ${capture.sourceEnded ? `${source.description} ended` : `heard no speech from ${source.description} in ${waitS} s`}; stopping\n`);
        break;
      }
      try {
        const take = await checkTake(audio, `take ${kept + 1}`, gateOptions(config));
        const r = await addTake(config.state.dir, term, take, who, 'mic', retentionOf(config));
        kept++;
        process.stdout.write(`kept ${r.takeId}: ${r.speechSec.toFixed(2)} s of speech at ${r.levelDbfs} dBFS${play ? '' : ` (listen: aplay ${r.wavPath})`}\n`);
        if (play) await playBack(r.wavPath);
      } catch (err) {
        if (!(err instanceof TakeError)) throw err;
        refused++;
        process.stderr.write(`gearhear enroll: refused ${err.message}\n`);
      }
    }
  } finally {
    await capture.stop();
    await gate.dispose();
  }
  const total = (await listTakes(config.state.dir, { term })).takes.length;
  process.stdout.write(`${kept} take(s) kept, ${refused} refused; "${term}" has ${total} take(s)${total >= config.enrolment.minTakes ? '; run gearhear adapt' : ` (gearhear adapt needs ${config.enrolment.minTakes})`}\n`);
  return kept < count ? EX_DATAERR : 0;
}

/** Plays a kept take back through ALSA's aplay (alsa-utils), so the speaker hears what was kept. */
async function playBack(wav: string): Promise<void> {
  try {
    await promisify(execFile)('aplay', ['-q', wav], { timeout: 10_000 });
  } catch (err) {
    process.stderr.write(`gearhear enroll: could not play the take back (${(err as Error).message.split('\n')[0]}); listen with: aplay ${wav}\n`);
  }
}

async function remove(stateDir: string, ids: string[], values: { term?: string; who?: string }): Promise<number> {
  if (ids.length === 0 && values.term === undefined && values.who === undefined) return usageError('enroll', 'remove needs take ids, --term TERM or --who NAME');
  const { takes } = await listTakes(stateDir, { term: values.term, who: values.who });
  const chosen = ids.length > 0 ? takes.filter((t) => ids.includes(t.takeId)) : takes;
  const unknown = ids.filter((id) => !takes.some((t) => t.takeId === id));
  for (const t of chosen) await removeTake(t);
  process.stdout.write(`removed ${chosen.length} take(s)\n`);
  if (unknown.length > 0) {
    process.stderr.write(`gearhear enroll: no take ${unknown.join(', ')} (gearhear enroll list shows them)\n`);
    return EX_USAGE;
  }
  return 0;
}

/** The WAV files named, a folder standing for its .wav files (sorted); or a message naming what is missing. */
export async function wavFiles(names: readonly string[]): Promise<string[] | string> {
  const out: string[] = [];
  for (const name of names) {
    const st = await stat(name).catch(() => null);
    if (!st) return `${shownPath(name)} does not exist`;
    if (st.isDirectory()) {
      const inside = (await readdir(name)).filter((n) => n.toLowerCase().endsWith('.wav')).sort();
      if (inside.length === 0) return `the folder ${shownPath(name)} has no .wav file`;
      out.push(...inside.map((n) => path.join(name, n)));
    } else out.push(name);
  }
  return out;
}
