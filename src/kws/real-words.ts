/**
 * Real recordings of a term for `gearhear vocab compile --real-speech MANIFEST`, on a workstation
 * with a transcribed speech corpus: every utterance whose transcript says the term, force-aligned
 * with PocketSphinx (its US English acoustic model and CMU dictionary, a JSGF grammar of exactly the
 * transcript) to find where the term starts and ends. Positives then carry real voices,
 * microphones and rooms, and the term inside its speaker's own running speech.
 *
 * MANIFEST is a CSV with a `path` column (relative to the manifest's folder, or absolute), the
 * transcript in `text` (or `word`, for one-word clips) and an optional `speaker`: the layout of
 * ../shared/train-speech and ../shared/speech-commands-test. Audio of any format sox reads.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { scaledCopy } from '../audio/pcm.js';
import { splitCsvLine } from '../csv.js';
import { ARPABET_PHONES } from '../model/phones.js';

const run = promisify(execFile);
const SAMPLE_RATE = 16000;
const TOOL_TIMEOUT_MS = 60_000;
/** Beams wide enough that a forced alignment is not pruned away (PocketSphinx's defaults lose whole utterances). */
const WIDE_BEAMS = ['-beam', '1e-80', '-pbeam', '1e-80', '-wbeam', '1e-60'];

export interface RealSpeechRow {
  file: string;
  /** Lower case, words separated by single spaces. */
  text: string;
  speaker: string;
}

/** One time the term was said: the whole utterance and where the term lies in it (samples). */
export interface RealOccurrence {
  speech: Float32Array;
  start: number;
  end: number;
  speaker: string;
  file: string;
}

export class RealSpeechError extends Error {
  override name = 'RealSpeechError';
}

const normalise = (s: string): string => s.toLowerCase().replace(/[^a-z' ]+/g, ' ').replace(/\s+/g, ' ').trim();

/** The rows of a manifest CSV (path, text or word, speaker). Throws RealSpeechError naming the file. */
export async function readRealSpeechManifest(manifest: string): Promise<RealSpeechRow[]> {
  const text = await readFile(manifest, 'utf8').catch((err: unknown) => {
    throw new RealSpeechError(`${manifest}: cannot read the real-speech manifest (${(err as Error).message}); give a CSV with path and text columns`, { cause: err });
  });
  const lines = text.split(/\r?\n/).filter(Boolean);
  const header = splitCsvLine(lines[0] ?? '');
  const col = (name: string): number => header.indexOf(name);
  const pathCol = col('path'), textCol = col('text') >= 0 ? col('text') : col('word'), speakerCol = col('speaker');
  if (pathCol < 0 || textCol < 0) throw new RealSpeechError(`${manifest}: needs a path column and a text (or word) column; its header is "${lines[0] ?? ''}"`);
  const dir = path.dirname(manifest);
  return lines.slice(1).map((l) => splitCsvLine(l)).map((f) => ({
    file: path.resolve(dir, f[pathCol] ?? ''), text: normalise(f[textCol] ?? ''), speaker: speakerCol >= 0 ? f[speakerCol] ?? '' : '',
  })).filter((r) => r.text.length > 0);
}

/** 16 kHz mono samples of any file sox reads. */
export async function decodeWithSox(file: string): Promise<Float32Array> {
  const { stdout } = await run('sox', [file, '-t', 'raw', '-r', String(SAMPLE_RATE), '-e', 'signed', '-b', '16', '-c', '1', '-'], { encoding: 'buffer', maxBuffer: 1 << 28, timeout: TOOL_TIMEOUT_MS });
  const pcm = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.byteLength >> 1);
  return scaledCopy(pcm, 1 / 32768);
}

/** Each ARPAbet phone is a one-phone "word" for phone-level alignment. */
const phoneWord = (p: string): string => `${p.toLowerCase()}_`;

/**
 * Segments of `file` said as exactly `tokens`, in samples: PocketSphinx with a grammar of that one
 * sequence (words of its CMU dictionary, or phones with `phones`). Null when it cannot align.
 */
async function forcedAlign(file: string, tokens: readonly string[], phones: boolean): Promise<Array<{ token: string; start: number; end: number }> | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-align-'));
  try {
    const wav = path.join(dir, 'u.wav'), grammar = path.join(dir, 'g.jsgf'), dict = path.join(dir, 'phones.dict');
    await run('sox', [file, '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16', wav], { timeout: TOOL_TIMEOUT_MS });
    await writeFile(grammar, `#JSGF V1.0;\ngrammar utterance;\npublic <s> = ${tokens.join(' ')};\n`);
    if (phones) await writeFile(dict, ARPABET_PHONES.map((p) => `${phoneWord(p)} ${p}`).join('\n') + '\n');
    const { stdout } = await run('pocketsphinx_continuous', ['-infile', wav, '-jsgf', grammar, '-time', 'yes', '-logfn', '/dev/null', ...WIDE_BEAMS, ...(phones ? ['-dict', dict] : [])], { timeout: TOOL_TIMEOUT_MS });
    // Segment lines are "token start end probability"; the hypothesis line before them is the tokens alone.
    const got = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 4 && f.slice(1).every((v) => /^\d+(\.\d+)?$/.test(v)) && !/^(<s>|<\/s>|<sil>|\[NOISE\])$/i.test(f[0]!))
      .map(([w, s, e]) => ({ token: w!.replace(/\(\d+\)$/, ''), start: Math.round(Number(s) * SAMPLE_RATE), end: Math.round(Number(e) * SAMPLE_RATE) }));
    return got.length === tokens.length && got.every((w, i) => w.token === tokens[i]) ? got : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RealSpeechError('--real-speech needs sox and pocketsphinx_continuous (apt-get install sox libsox-fmt-all pocketsphinx pocketsphinx-en-us)', { cause: err });
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Word segments of `file` said as exactly `text` (words of the CMU dictionary), or null. */
export async function alignWords(file: string, text: string): Promise<Array<{ word: string; start: number; end: number }> | null> {
  const got = await forcedAlign(file, text.split(' '), false);
  return got && got.map((g) => ({ word: g.token, start: g.start, end: g.end }));
}

/** [start, end) of each phone of `file` said as exactly `phones` (ARPAbet), or null. */
export async function alignPhones(file: string, phones: readonly string[]): Promise<Array<[number, number]> | null> {
  if (phones.some((p) => !(ARPABET_PHONES as readonly string[]).includes(p))) return null;
  const got = await forcedAlign(file, phones.map(phoneWord), true);
  return got && got.map((g) => [g.start, g.end]);
}

/** From the first to the last 20 ms frame within 20 dB of the loudest: a one-word clip's word. */
export function loudPart(x: Float32Array): { start: number; end: number } | null {
  const frame = SAMPLE_RATE / 50, levels: number[] = [];
  for (let s = 0; s + frame <= x.length; s += frame) {
    let e = 0;
    for (let i = s; i < s + frame; i++) e += x[i]! * x[i]!;
    levels.push(Math.sqrt(e / frame));
  }
  const peak = Math.max(0, ...levels);
  if (peak === 0) return null;
  const first = levels.findIndex((l) => l >= peak / 10);
  let last = levels.length - 1;
  while (levels[last]! < peak / 10) last--;
  return { start: first * frame, end: (last + 1) * frame };
}

/**
 * Where a word aligned from `start` to `alignedEnd` stops sounding: PocketSphinx often gives a word's
 * fading end (a nasal, a released stop) to the silence after it, so the end moves on through 10 ms
 * frames within 20 dB of the word's loudest, up to `bound` (the next word's start).
 */
export function soundEnd(x: Float32Array, start: number, alignedEnd: number, bound: number): number {
  const frame = SAMPLE_RATE / 100;
  const level = (at: number): number => {
    let e = 0;
    const to = Math.min(x.length, at + frame);
    for (let i = at; i < to; i++) e += x[i]! * x[i]!;
    return Math.sqrt(e / Math.max(1, to - at));
  };
  let peak = 0;
  for (let at = start; at + frame <= alignedEnd; at += frame) peak = Math.max(peak, level(at));
  let end = alignedEnd;
  while (end + frame <= bound && level(end) >= peak / 10) end += frame;
  return end;
}

/** Rows saying `term`, one speaker after another (each speaker's rows in a seeded order), so few rows cover many voices. */
export function rowsSaying(rows: readonly RealSpeechRow[], term: string, rng: () => number): RealSpeechRow[] {
  const bySpeaker = new Map<string, RealSpeechRow[]>();
  for (const r of rows) if (` ${r.text} `.includes(` ${term} `)) bySpeaker.set(r.speaker || r.file, [...(bySpeaker.get(r.speaker || r.file) ?? []), r]);
  const queues = [...bySpeaker.values()].map((q) => q.map((r) => ({ r, k: rng() })).sort((a, b) => a.k - b.k).map((x) => x.r));
  const order = queues.map((q) => ({ q, k: rng() })).sort((a, b) => a.k - b.k).map((x) => x.q);
  const out: RealSpeechRow[] = [];
  for (let round = 0; out.length < rows.length; round++) {
    const before = out.length;
    for (const q of order) if (q[round]) out.push(q[round]!);
    if (out.length === before) break;
  }
  return out;
}

/** The real speech corpus a compile draws on. */
export class RealSpeech {
  private constructor(readonly manifest: string, readonly rows: readonly RealSpeechRow[]) {}

  /** One or more manifests; `keep` leaves rows out (the benchmark keeps its held-out speakers out). */
  static async open(manifests: string | readonly string[], keep: (row: RealSpeechRow) => boolean = () => true): Promise<RealSpeech> {
    const list = typeof manifests === 'string' ? [manifests] : manifests;
    const rows = (await Promise.all(list.map((m) => readRealSpeechManifest(m)))).flat().filter(keep);
    return new RealSpeech(list.map((m) => path.basename(path.dirname(m)) + '/' + path.basename(m)).join(','), rows);
  }

  get utterances(): number { return this.rows.length; }

  /** Up to `max` occurrences of `term`, from as many speakers as there are; utterances that do not align are skipped. */
  async occurrences(term: string, max: number, rng: () => number): Promise<RealOccurrence[]> {
    const want = normalise(term), words = want.split(' ');
    const out: RealOccurrence[] = [];
    for (const r of rowsSaying(this.rows, want, rng)) {
      if (out.length >= max) break;
      const decoded = async (): Promise<Float32Array | null> => {
        const x = await decodeWithSox(r.file).catch(() => null);
        return x && x.length >= SAMPLE_RATE / 10 ? x : null;
      };
      if (r.text === want) { // a one-word clip: the term is its loud part
        const speech = await decoded(), b = speech && loudPart(speech);
        if (speech && b) out.push({ speech, start: b.start, end: b.end, speaker: r.speaker, file: r.file });
        continue;
      }
      const aligned = await alignWords(r.file, r.text);
      const speech = aligned && await decoded(); // decoded only once it has aligned
      if (!aligned || !speech) continue;
      for (let i = 0; i + words.length <= aligned.length && out.length < max; i++) {
        if (words.every((w, j) => aligned[i + j]!.word === w)) {
          const start = aligned[i]!.start, bound = Math.min(speech.length, aligned[i + words.length]?.start ?? speech.length);
          const end = soundEnd(speech, start, Math.min(bound, aligned[i + words.length - 1]!.end), bound);
          out.push({ speech, start, end, speaker: r.speaker, file: r.file });
          break; // one occurrence per utterance: the rest of it stays free of the term before this one
        }
      }
    }
    return out;
  }
}
