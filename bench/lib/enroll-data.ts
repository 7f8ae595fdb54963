/**
 * The enrolment benchmark's audio: real people's takes of the 10 Speech Commands command words from
 * ../shared/speech-commands-test's measurement speakers (hash c-f: never trained on), eval-only
 * machine noise (MIMII/DCASE, NOISEX factory) split in halves (the first half is a site's own noise
 * for perturbing takes, the second is mixed into what is measured, at 10 dB), and real speech of the
 * held-out speakers of ../shared/train-speech (models/training/heads/split.py) that says none of the
 * words, in the same noise. With `--fsdd`, the digits of ../shared/data's Free Spoken Digit Dataset
 * (6 speakers, eval-only: enrolled and measured on, never trained on) in place of the command words.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { decodeWithSox } from '../../src/kws/real-words.js';
import { repoRoot } from './common.js';
import { readManifest, rms, splitCsvLine } from './data.js';

export const COMMAND_WORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'] as const;
export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
const SC_TEST = path.resolve(repoRoot, '../shared/speech-commands-test');
const TRAIN_SPEECH = path.resolve(repoRoot, '../shared/train-speech');
export const SNR_DB = 10;

export interface Take { word: string; speaker: string; take: number; file: string }

/**
 * Measurement speakers' takes of the command words (hash c-f), by speaker then word, in take order;
 * with `trainable`, the trainable speakers' instead (hash 0-b: for choosing settings, never reported).
 */
export async function measurementTakes(trainable = false): Promise<Map<string, Map<string, Take[]>>> {
  const lines = (await readFile(path.join(SC_TEST, 'manifest.csv'), 'utf8')).trim().split('\n');
  const h = splitCsvLine(lines[0]!);
  const out = new Map<string, Map<string, Take[]>>();
  for (const l of lines.slice(1)) {
    const f = splitCsvLine(l);
    const t: Take = { word: f[h.indexOf('word')]!, speaker: f[h.indexOf('speaker')]!, take: Number(f[h.indexOf('take')]), file: path.join(SC_TEST, f[h.indexOf('path')]!) };
    if (/^[c-f]/.test(t.speaker) === trainable || !(COMMAND_WORDS as readonly string[]).includes(t.word)) continue;
    const bySpeaker = out.get(t.speaker) ?? out.set(t.speaker, new Map()).get(t.speaker)!;
    bySpeaker.set(t.word, [...(bySpeaker.get(t.word) ?? []), t].sort((a, b) => a.take - b.take));
  }
  return out;
}

/** FSDD's takes of the digits (../shared/data, eval-only), by speaker then word, in take order. */
export async function fsddTakes(): Promise<Map<string, Map<string, Take[]>>> {
  const out = new Map<string, Map<string, Take[]>>();
  for (const r of (await readManifest()).filter((x) => x.kind === 'word' && x.path.includes('/fsdd/'))) {
    const take = Number(/_(\d+)\.wav$/.exec(r.path)?.[1]);
    const bySpeaker = out.get(r.speaker) ?? out.set(r.speaker, new Map()).get(r.speaker)!;
    const takes = bySpeaker.get(r.text) ?? bySpeaker.set(r.text, []).get(r.text)!;
    takes.push({ word: r.text, speaker: r.speaker, take, file: r.file });
  }
  for (const bySpeaker of out.values()) for (const takes of bySpeaker.values()) takes.sort((a, b) => a.take - b.take);
  return out;
}

/** Ogg Vorbis (or any file sox reads) as 16 kHz mono samples: the compile's own decoder. */
export const readOgg = decodeWithSox;

/** Eval-only machine noise, each recording cut in two: [site noise (first halves), test noise (second halves)]. */
export async function noiseHalves(): Promise<{ site: Float32Array[]; test: Float32Array[] }> {
  const rows = (await readManifest()).filter((r) => r.kind === 'noise' && r.use === 'eval-only' && /dcase|spear/.test(r.path) && !/anomaly_|f16|kitchen/.test(r.path));
  const beds = await Promise.all(rows.slice(0, 30).map((r) => readWavFile(r.file)));
  return { site: beds.map((b) => b.slice(0, b.length >> 1)), test: beds.map((b) => b.slice(b.length >> 1)) };
}

/** `x` with noise from `beds` at SNR_DB below `level` (RMS), in place. */
export function mixNoise(x: Float32Array, level: number, beds: readonly Float32Array[], rand: () => number): void {
  const bed = beds[Math.floor(rand() * beds.length)]!;
  const gain = level / (rms(bed) * 10 ** (SNR_DB / 20) + 1e-12);
  let pos = Math.floor(rand() * bed.length);
  for (let i = 0; i < x.length; i++, pos++) x[i]! += bed[pos % bed.length]! * gain;
}

/** A take as measured: 0.5 s of quiet either side, in machine noise at 10 dB under the word. */
export async function testClip(t: Take, beds: readonly Float32Array[], rand: () => number): Promise<Float32Array> {
  const word = await readOgg(t.file);
  const x = new Float32Array(word.length + SAMPLE_RATE);
  x.set(word, SAMPLE_RATE / 2);
  mixNoise(x, rms(word), beds, rand);
  return x;
}

const isHeldOutSpeaker = (speaker: string): boolean => parseInt(createHash('md5').update(speaker).digest('hex')[0]!, 16) < 5;
const saysAny = (text: string, words: readonly string[]): boolean => words.some((w) => ` ${text.toLowerCase().replace(/[^a-z' ]/g, ' ')} `.includes(` ${w} `));

/**
 * Held-out speakers' utterances that say none of the words, up to `hours` after skipping the first
 * `skipHours` of them, each in 10 dB machine noise.
 */
export async function termFreeSpeech(hours: number, beds: readonly Float32Array[], rand: () => number, skipHours = 0, words: readonly string[] = COMMAND_WORDS): Promise<{ utterances: Float32Array[]; hours: number; speakers: number }> {
  const lines = (await readFile(path.join(TRAIN_SPEECH, 'manifest.csv'), 'utf8')).split(/\r?\n/).filter(Boolean);
  const h = splitCsvLine(lines[0]!);
  const rows = lines.slice(1).map(splitCsvLine).map((f) => ({ path: f[h.indexOf('path')]!, text: f[h.indexOf('text')]!, speaker: f[h.indexOf('speaker')]! }))
    .filter((r) => isHeldOutSpeaker(r.speaker) && !saysAny(r.text, words));
  const utterances: Float32Array[] = [], speakers = new Set<string>();
  let sec = 0, skipped = 0;
  for (const r of rows) {
    if (sec >= hours * 3600) break;
    const x = await readOgg(path.join(TRAIN_SPEECH, r.path));
    if (skipped < skipHours * 3600) {
      skipped += x.length / SAMPLE_RATE;
      continue;
    }
    for (let s = 0; s < x.length; s += SAMPLE_RATE * 5) {
      const chunk = x.subarray(s, Math.min(x.length, s + SAMPLE_RATE * 5));
      const level = rms(chunk);
      if (level > 1e-4) mixNoise(chunk, level, beds, rand);
    }
    utterances.push(x);
    speakers.add(r.speaker);
    sec += x.length / SAMPLE_RATE;
  }
  return { utterances, hours: sec / 3600, speakers: speakers.size };
}
