/**
 * The real-speech benchmark's audio, after Picovoice's wake-word benchmark protocol, on data we may
 * use: real spoken words of the benchmark's terms (../shared/data: Speech Commands, FSDD) each with
 * about 1 s of context on both sides (half of them real background speech), real machine noise at
 * 10 dB SNR (eval-only recordings, never trained on), and about 2 h of real speech without the terms
 * (held-out speakers of ../shared/train-speech, models/training/heads/split.py, plus the sentences of
 * ../shared/data). Everything is split by speaker into two parts: thresholds are chosen on A and
 * reported on B.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { concatSamples } from '../../src/audio/pcm.js';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { execFileAsync, repoRoot, seededRandom } from './common.js';
import { readManifest, rms, splitCsvLine, type ManifestRow } from './data.js';

export const TERMS_FILE = path.join(repoRoot, 'bench/real-speech/terms.txt');
const TRAIN_SPEECH = path.resolve(repoRoot, '../shared/train-speech');
const SNR_DB = 10;
const CONTEXT_SEC = 1;

export interface Span { term: string; start: number; end: number }
export interface BenchPart {
  name: 'A' | 'B';
  positives: { samples: Float32Array; spans: Span[] };
  negatives: { samples: Float32Array; hours: number; utterances: number };
}

export async function readTerms(file = TERMS_FILE): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').map((l) => l.split('#')[0]!.trim().toLowerCase()).filter(Boolean);
}

const part = (speaker: string): 'A' | 'B' => (createHash('md5').update(`part:${speaker}`).digest()[0]! % 2 === 0 ? 'A' : 'B');
/** Same rule as models/training/heads/split.py: these speakers are never trained on. */
const isBenchSpeaker = (speaker: string): boolean => parseInt(createHash('md5').update(speaker).digest('hex')[0]!, 16) < 5;
const saysAny = (text: string, terms: readonly string[]): boolean => terms.some((t) => ` ${text.toLowerCase()} `.includes(` ${t} `));

async function readOgg(file: string): Promise<Float32Array> {
  const { stdout } = await execFileAsync('sox', [file, '-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-c', '1', '-'], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const pcm = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 2);
  return Float32Array.from(pcm, (v) => v / 32768);
}

/** Eval-only machine noise (never trained on): MIMII/DCASE machines and NOISEX factory noise. */
async function noiseBeds(rows: readonly ManifestRow[]): Promise<Float32Array[]> {
  const picked = rows.filter((r) => r.kind === 'noise' && r.use === 'eval-only' && /dcase|spear/.test(r.path) && !/anomaly_|f16|kitchen/.test(r.path));
  return Promise.all(picked.slice(0, 30).map((r) => readWavFile(r.file)));
}

function mixNoise(x: Float32Array, speechRms: number, beds: Float32Array[], rand: () => number): void {
  const bed = beds[Math.floor(rand() * beds.length)]!;
  const gain = speechRms / (rms(bed) * 10 ** (SNR_DB / 20) + 1e-12);
  let pos = Math.floor(rand() * bed.length);
  for (let i = 0; i < x.length; i++, pos++) x[i]! += bed[pos % bed.length]! * gain;
}

interface TrainSpeechRow { path: string; text: string; speaker: string; duration: number }

async function trainSpeechRows(): Promise<TrainSpeechRow[]> {
  const lines = (await readFile(path.join(TRAIN_SPEECH, 'manifest.csv'), 'utf8')).split(/\r?\n/).filter(Boolean);
  const h = splitCsvLine(lines[0]!);
  return lines.slice(1).map((l) => {
    const f = splitCsvLine(l);
    return { path: f[h.indexOf('path')]!, text: f[h.indexOf('text')]!, speaker: f[h.indexOf('speaker')]!, duration: Number(f[h.indexOf('duration_s')]) };
  });
}

export interface BuildOptions {
  /** Extra terms whose utterances are kept out of the negatives (the shipped vocabulary). */
  excludeTerms: readonly string[];
  maxPerTerm: number;
  /** Cap on negative speech per part, hours (0: all). */
  maxNegativeHours: number;
}

/** Builds both parts. Deterministic. */
export async function buildBench(terms: readonly string[], o: BuildOptions): Promise<BenchPart[]> {
  const rows = await readManifest();
  const beds = await noiseBeds(rows);
  const rand = seededRandom(20261201);
  const allTerms = [...terms, ...o.excludeTerms];
  const negRows = (await trainSpeechRows()).filter((r) => isBenchSpeaker(r.speaker) && !saysAny(r.text, allTerms));
  const sentRows = rows.filter((r) => r.kind === 'sentence' && !saysAny(r.text, allTerms));
  const parts: BenchPart[] = [];
  for (const name of ['A', 'B'] as const) {
    // Negatives: held-out real speech of this part's speakers, machine noise at 10 dB over each utterance.
    const negAudio: Float32Array[] = [];
    let negSec = 0;
    const mine = negRows.filter((r) => part(r.speaker) === name);
    const context: Float32Array[] = [];
    let used = 0;
    for (const r of mine) {
      if (o.maxNegativeHours > 0 && negSec > o.maxNegativeHours * 3600) break;
      const x = await readOgg(path.join(TRAIN_SPEECH, r.path));
      context.push(x);
      used++;
      negAudio.push(x, new Float32Array(SAMPLE_RATE / 2));
      negSec += x.length / SAMPLE_RATE + 0.5;
    }
    for (const r of sentRows.filter((s) => part(s.speaker || s.path) === name)) {
      const x = await readWavFile(r.file);
      negAudio.push(x, new Float32Array(SAMPLE_RATE / 2));
      negSec += x.length / SAMPLE_RATE + 0.5;
    }
    const negatives = concatSamples(negAudio);
    // Noise over the whole negative stream, at 10 dB below its speech level (measured per second).
    const sec = SAMPLE_RATE;
    for (let s = 0; s < negatives.length; s += sec * 5) {
      const chunk = negatives.subarray(s, Math.min(negatives.length, s + sec * 5));
      const level = rms(chunk);
      if (level > 1e-4) mixNoise(chunk, level, beds, rand);
    }
    // Positives: word clip with 1 s of context each side; half the contexts are real speech.
    const words = rows.filter((r) => r.kind === 'word' && terms.includes(r.text.trim().toLowerCase()) && part(r.speaker || r.path) === name);
    const byTerm = new Map<string, ManifestRow[]>();
    for (const r of words) byTerm.set(r.text.trim().toLowerCase(), [...(byTerm.get(r.text.trim().toLowerCase()) ?? []), r]);
    const posAudio: Float32Array[] = [];
    const spans: Span[] = [];
    let t = 0;
    let k = 0;
    for (const term of terms) {
      for (const r of (byTerm.get(term) ?? []).slice(0, o.maxPerTerm)) {
        const word = await readWavFile(r.file);
        const level = rms(word);
        const side = (): Float32Array => {
          const c = new Float32Array(CONTEXT_SEC * SAMPLE_RATE);
          if (k % 2 === 0 && context.length > 0) {
            const src = context[Math.floor(rand() * context.length)]!;
            const off = Math.floor(rand() * Math.max(1, src.length - c.length));
            c.set(src.subarray(off, off + c.length));
            const g = level / (rms(c) + 1e-9) * 10 ** (-(3 + rand() * 6) / 20); // background talk 3-9 dB below the word
            for (let i = 0; i < c.length; i++) c[i]! *= g;
          }
          return c;
        };
        const clip = concatSamples([side(), word, side()]);
        mixNoise(clip, level, beds, rand);
        spans.push({ term, start: t + CONTEXT_SEC, end: t + CONTEXT_SEC + word.length / SAMPLE_RATE });
        posAudio.push(clip, new Float32Array(SAMPLE_RATE / 2));
        t += clip.length / SAMPLE_RATE + 0.5;
        k++;
      }
    }
    parts.push({ name, positives: { samples: concatSamples(posAudio), spans }, negatives: { samples: negatives, hours: negSec / 3600, utterances: used } });
  }
  return parts;
}

/**
 * Real read sentences that say a vocabulary term (every speaker of ../shared/train-speech): the
 * term heads never trained on them (their negatives leave out every utterance with a vocabulary
 * term), but the phone model 0.2.0 did, so its figure on them is optimistic.
 */
export async function sentencesSayingTerms(terms: readonly string[]): Promise<Array<{ path: string; text: string; terms: string[]; samples: Float32Array }>> {
  const out = [];
  for (const r of await trainSpeechRows()) {
    const said = terms.filter((t) => ` ${r.text.toLowerCase()} `.includes(` ${t} `));
    if (said.length > 0) out.push({ path: r.path, text: r.text, terms: said, samples: await readOgg(path.join(TRAIN_SPEECH, r.path)) });
  }
  return out;
}
