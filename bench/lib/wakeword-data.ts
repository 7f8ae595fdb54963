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
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { concatSamples } from '../../src/audio/pcm.js';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { decodeWithSox, RealSpeech } from '../../src/kws/real-words.js';
import { repoRoot, seededRandom } from './common.js';
import { readManifest, rms, splitCsvLine, type ManifestRow } from './data.js';
import { voicesNamed, type OtherVoices } from '../../src/kws/term-synth.js';

export const TERMS_FILE = path.join(repoRoot, 'bench/real-speech/terms.txt');
const TRAIN_SPEECH = path.resolve(repoRoot, '../shared/train-speech');
const SC_TEST = path.resolve(repoRoot, '../shared/speech-commands-test');
/** Prepared benchmark audio is cached here (outside the work tree; never committed). */
export const BENCH_CACHE = path.join(process.env.GEARHEAR_TRAIN_DIR ?? path.resolve(repoRoot, '../gearhear-train'), 'bench-cache');
/** Bump when the way the audio is built changes, so old caches are not reused. */
const BUILD_VERSION = 2;
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

/** Ogg Vorbis (or any file sox reads) as 16 kHz mono samples: the compile's own decoder. */
const readOgg = decodeWithSox;

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

/** Transcripts of ../shared/train-speech by path (to keep a term's own utterances out of compile context). */
export async function trainSpeechTexts(): Promise<Map<string, string>> {
  return new Map((await trainSpeechRows()).map((r) => [r.path, r.text]));
}

export interface BuildOptions {
  /** Extra terms whose utterances are kept out of the negatives (the shipped vocabulary). */
  excludeTerms: readonly string[];
  maxPerTerm: number;
  /** Cap on negative speech per part, hours (0: all). */
  maxNegativeHours: number;
  /**
   * Further real positives per term and part from ../shared/speech-commands-test, measurement speakers
   * only (hash c-f; never trained on), with the same context and noise (0: none).
   */
  scTestPerTerm?: number;
  /**
   * Positives are instead the held-out speakers' real sentences that say a term (each sentence whole,
   * its span the whole utterance, machine noise at 10 dB as everywhere), at most this many per term and
   * part (0: word clips as usual).
   */
  sentencesPerTerm?: number;
}

/** speech-commands-test clips of measurement speakers (hash c-f), as word rows. */
async function scTestRows(): Promise<Array<{ file: string; word: string; speaker: string }>> {
  const lines = (await readFile(path.join(SC_TEST, 'manifest.csv'), 'utf8')).split(/\r?\n/).filter(Boolean);
  const h = splitCsvLine(lines[0]!);
  return lines.slice(1).map((l) => splitCsvLine(l)).map((f) => ({ file: path.join(SC_TEST, f[h.indexOf('path')]!), word: f[h.indexOf('word')]!.toLowerCase(), speaker: f[h.indexOf('speaker')]! }))
    .filter((r) => /^[c-f]/.test(r.speaker));
}

/**
 * Real transcribed speech a compile may draw positives from (`vocab compile --real-speech`), never a
 * benchmark speaker: `train-speech` (its training speakers, md5 >= 5) and `sc-train` (the trainable
 * speakers of speech-commands-test, hashes 0-b: one-word clips).
 */
export async function trainingRealSpeech(sources: readonly string[]): Promise<RealSpeech> {
  const files: Record<string, string> = { 'train-speech': path.join(TRAIN_SPEECH, 'manifest.csv'), 'sc-train': path.join(SC_TEST, 'manifest.csv') };
  const unknown = sources.filter((s) => !files[s]);
  if (unknown.length > 0) throw new Error(`--compile-real: unknown source ${unknown.join(', ')}; use train-speech, sc-train or both`);
  return RealSpeech.open(sources.map((s) => files[s]!), (r) => r.file.startsWith(SC_TEST) ? /^[0-9ab]/.test(r.speaker) : !isBenchSpeaker(r.speaker));
}

/**
 * Multi-syllable words of held-out speakers' real sentences, used as terms never trained on: words of
 * 2 syllables or more (CMU dictionary) and 5 letters or more, not a function word, no word of the
 * shipped vocabulary or of `exclude`, said in at least `minPerPart` utterances of each part's speakers;
 * the `count` said in most utterances (ties by name). Chosen from the transcripts only, before any scoring.
 */
export async function sentenceTerms(count: number, exclude: readonly string[], minPerPart = 3): Promise<string[]> {
  const dict = new Map<string, number>();
  for (const l of (await readFile('/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict', 'utf8')).split('\n')) {
    const [w, ...ph] = l.trim().split(/\s+/);
    if (w && !w.includes('(')) dict.set(w, ph.filter((p) => /^(AA|AE|AH|AO|AW|AY|EH|ER|EY|IH|IY|OW|OY|UH|UW)/.test(p)).length);
  }
  const stop = new Set(['about', 'after', 'again', 'another', 'any', 'anything', 'around', 'before', 'being', 'between', 'cannot', 'could', 'couldn\'t',
    'every', 'everything', 'many', 'never', 'nothing', 'other', 'over', 'really', 'should', 'something', 'there', 'therefore', 'under',
    'until', 'upon', 'very', 'whatever', 'without', 'would', 'wouldn\'t', 'also', 'always', 'because', 'even', 'into', 'only', 'only', 'anyone', 'someone', 'himself', 'herself', 'itself', 'themselves', 'myself', 'yourself', 'whether', 'either', 'neither', 'although', 'however', 'perhaps', 'during', 'within', 'toward', 'towards', 'against', 'among', 'above', 'below', 'below']);
  const banned = new Set(exclude.flatMap((t) => t.toLowerCase().split(/\s+/)));
  const seen = new Map<string, { A: number; B: number }>();
  for (const r of (await trainSpeechRows()).filter((r) => isBenchSpeaker(r.speaker))) {
    const words = new Set(r.text.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean));
    for (const w of words) {
      if (w.length < 5 || stop.has(w) || banned.has(w) || (dict.get(w) ?? 0) < 2) continue;
      const c = seen.get(w) ?? seen.set(w, { A: 0, B: 0 }).get(w)!;
      c[part(r.speaker)]++;
    }
  }
  return [...seen].filter(([, c]) => c.A >= minPerPart && c.B >= minPerPart)
    .sort((a, b) => b[1].A + b[1].B - (a[1].A + a[1].B) || (a[0] < b[0] ? -1 : 1)).slice(0, count).map(([w]) => w);
}

/** Reads a built benchmark from the cache, or builds and caches it (float32 files, keyed by the inputs). */
export async function buildBenchCached(terms: readonly string[], o: BuildOptions): Promise<BenchPart[]> {
  const key = createHash('sha256').update(JSON.stringify({ v: BUILD_VERSION, terms, o })).digest('hex').slice(0, 16);
  const dir = path.join(BENCH_CACHE, key);
  const f32 = (name: string): string => path.join(dir, `${name}.f32`);
  const readF32 = async (name: string): Promise<Float32Array> => { const b = await readFile(f32(name)); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
  if (existsSync(path.join(dir, 'parts.json'))) {
    const meta = JSON.parse(await readFile(path.join(dir, 'parts.json'), 'utf8')) as Array<{ name: 'A' | 'B'; spans: Span[]; hours: number; utterances: number }>;
    return Promise.all(meta.map(async (m) => ({ name: m.name, positives: { samples: await readF32(`${m.name}-pos`), spans: m.spans }, negatives: { samples: await readF32(`${m.name}-neg`), hours: m.hours, utterances: m.utterances } })));
  }
  const parts = await buildBench(terms, o);
  await mkdir(dir, { recursive: true });
  for (const p of parts) {
    for (const [kind, x] of [['pos', p.positives.samples], ['neg', p.negatives.samples]] as const) await writeFile(f32(`${p.name}-${kind}`), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  }
  await writeFile(path.join(dir, 'parts.json.tmp'), JSON.stringify(parts.map((p) => ({ name: p.name, spans: p.positives.spans, hours: p.negatives.hours, utterances: p.negatives.utterances }))));
  await rename(path.join(dir, 'parts.json.tmp'), path.join(dir, 'parts.json'));
  return parts;
}

/** Builds both parts. Deterministic. */
export async function buildBench(terms: readonly string[], o: BuildOptions): Promise<BenchPart[]> {
  const rows = await readManifest();
  const beds = await noiseBeds(rows);
  const rand = seededRandom(20261201);
  const allTerms = [...terms, ...o.excludeTerms];
  const benchRows = (await trainSpeechRows()).filter((r) => isBenchSpeaker(r.speaker));
  const negRows = benchRows.filter((r) => !saysAny(r.text, allTerms));
  const scRows = (o.scTestPerTerm ?? 0) > 0 ? await scTestRows() : [];
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
      if ((o.sentencesPerTerm ?? 0) > 0) {
        // Real sentences of this part's held-out speakers that say the term: the whole utterance is the span.
        for (const r of benchRows.filter((s) => part(s.speaker) === name && saysAny(s.text, [term])).slice(0, o.sentencesPerTerm)) {
          const x = await readOgg(path.join(TRAIN_SPEECH, r.path));
          const clip = concatSamples([new Float32Array(SAMPLE_RATE / 2), x, new Float32Array(SAMPLE_RATE / 2)]);
          mixNoise(clip, rms(x), beds, rand);
          spans.push({ term, start: t + 0.5, end: t + 0.5 + x.length / SAMPLE_RATE });
          posAudio.push(clip, new Float32Array(SAMPLE_RATE / 2));
          t += clip.length / SAMPLE_RATE + 0.5;
        }
        continue;
      }
      const sources: Array<() => Promise<Float32Array>> = [
        ...(byTerm.get(term) ?? []).slice(0, o.maxPerTerm).map((r) => () => readWavFile(r.file)),
        ...scRows.filter((r) => r.word === term && part(r.speaker) === name).slice(0, o.scTestPerTerm ?? 0).map((r) => () => readOgg(r.file)),
      ];
      for (const source of sources) {
        const word = await source();
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

/** --compile-voices: the installed voices of the synthesisers named (espeak-ng is always used); absent: every one installed. */
export async function benchVoices(names: string | undefined): Promise<OtherVoices> {
  const { voices, missing } = await voicesNamed(names?.split(','));
  if (missing.length > 0) throw new Error(`--compile-voices: ${missing.join(', ')} not installed here (models/training/setup-voices.sh)`);
  return voices;
}
