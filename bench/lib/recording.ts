/**
 * The mixed benchmark recording: synthesised speech with and without vocabulary terms, machine
 * noise and silence, with a ground-truth list of every utterance. Cached by its parameters.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { cacheDir, mapLimit, pick, seededRandom, writeWav } from './common.js';
import { NoisePool, readManifest, rms, scaleTo } from './data.js';
import { generalSentences, termFinalSentences, termSentences, type TermSentence } from './sentences.js';
import { synthesize, type Voice } from './tts.js';

export interface Utterance {
  text: string;
  voice: Voice;
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
  targets: string[];
  allowed: string[];
  /** SNR of the noise under it in dB, or null when clean. */
  snrDb: number | null;
}

export interface Recording {
  file: string;
  durationSec: number;
  utterances: Utterance[];
  /** Seconds of speech / noise-only / silence. */
  speechSec: number;
  noiseSec: number;
  silenceSec: number;
}

export interface RecordingSpec {
  minutes: number;
  /** 'mixed': speech ~50%, noise, silence; 'speech': utterances back to back; 'term-final': spaced utterances ending in a term. */
  kind: 'mixed' | 'speech' | 'term-final';
  terms: readonly string[];
  voices: readonly Voice[];
  seed?: number;
}

const SPEECH_LEVEL = 0.08;
const SNR_CHOICES: ReadonlyArray<number | null> = [null, 20, 10];

export async function buildRecording(spec: RecordingSpec): Promise<Recording> {
  const seed = spec.seed ?? 1;
  const key = `v1-${spec.kind}-${spec.minutes}m-${spec.voices.join('+').replace(/:/g, '_')}-s${seed}-t${spec.terms.length}`;
  const dir = await cacheDir('recordings');
  const wav = path.join(dir, `${key}.wav`);
  const truth = path.join(dir, `${key}.json`);
  if (existsSync(wav) && existsSync(truth)) return JSON.parse(await readFile(truth, 'utf8')) as Recording;

  const rand = seededRandom(seed);
  const total = Math.round(spec.minutes * 60 * SAMPLE_RATE);
  const pieces: Float32Array[] = [];
  const utterances: Utterance[] = [];
  let at = 0;
  let speech = 0, noise = 0, silence = 0;
  const noisePool = spec.kind === 'mixed' ? await NoisePool.load(await readManifest()) : null;
  const push = (x: Float32Array): void => { pieces.push(x); at += x.length; };

  // Enough sentences for the duration (about 3 s each), synthesised two at a time.
  const needed = Math.ceil((spec.minutes * 60 * (spec.kind === 'mixed' ? 0.5 : 1)) / 2.5) + 4;
  const sentences = planSentences(spec, needed, rand);
  const audio = await mapLimit(sentences, 2, (s) => synthesize(s.sentence.text, s.voice));

  for (let i = 0; at < total && i < sentences.length * 4; i++) {
    const { sentence, voice } = sentences[i % sentences.length]!;
    const clean = scaleTo(Float32Array.from(audio[i % sentences.length]!), SPEECH_LEVEL);
    const snrDb = spec.kind === 'mixed' ? pick(rand, SNR_CHOICES) : null;
    if (snrDb !== null && noisePool) addNoise(clean, noisePool.cut(clean.length, rand).samples, snrDb);
    utterances.push({ text: sentence.text, voice, start: at / SAMPLE_RATE, end: (at + clean.length) / SAMPLE_RATE, targets: sentence.targets, allowed: sentence.allowed, snrDb });
    push(clean);
    speech += clean.length;
    if (spec.kind === 'speech') { push(new Float32Array(Math.round(0.3 * SAMPLE_RATE))); continue; }
    if (spec.kind === 'term-final') { const gap = Math.round((2 + 2 * rand()) * SAMPLE_RATE); push(new Float32Array(gap)); silence += gap; continue; }
    // Mixed: after each utterance either machine noise or silence, together about as long as the speech.
    const gap = Math.round(clean.length * (0.6 + 0.8 * rand()));
    if (rand() < 0.6 && noisePool) {
      const bed = noisePool.cut(gap, rand).samples;
      scaleTo(bed, SPEECH_LEVEL * 10 ** (-(6 + 14 * rand()) / 20));
      push(bed); noise += gap;
    } else {
      push(new Float32Array(gap)); silence += gap;
    }
  }
  const samples = new Float32Array(Math.min(total, at));
  let off = 0;
  for (const p of pieces) { if (off >= samples.length) break; samples.set(p.subarray(0, samples.length - off), off); off += p.length; }
  const rec: Recording = {
    file: wav, durationSec: samples.length / SAMPLE_RATE, utterances: utterances.filter((u) => u.end <= samples.length / SAMPLE_RATE),
    speechSec: speech / SAMPLE_RATE, noiseSec: noise / SAMPLE_RATE, silenceSec: silence / SAMPLE_RATE,
  };
  await writeWav(wav, samples);
  await writeFile(truth, JSON.stringify(rec));
  return rec;
}

interface PlannedSentence { sentence: TermSentence; voice: Voice }

function planSentences(spec: RecordingSpec, needed: number, rand: () => number): PlannedSentence[] {
  if (spec.kind === 'term-final') {
    return termFinalSentences(spec.terms, needed, rand).map((sentence, i) => ({ sentence, voice: spec.voices[i % spec.voices.length]! }));
  }
  // Two thirds with terms, one third general (cycled when more are needed than there are).
  const withTerms = termSentences(spec.terms, Math.ceil((needed * 2) / 3), rand);
  const general = generalSentences(spec.terms, 1000).map((text) => ({ text, targets: [], allowed: [] }));
  const out: PlannedSentence[] = [];
  for (let i = 0, g = 0, t = 0; out.length < needed; i++) {
    const sentence = i % 3 === 2 ? general[g++ % general.length]! : withTerms[t++ % withTerms.length]!;
    out.push({ sentence, voice: spec.voices[out.length % spec.voices.length]! });
  }
  return out;
}

/** Adds `noise` to `speech` in place at `snrDb` (RMS over the whole utterance). */
export function addNoise(speech: Float32Array, noise: Float32Array, snrDb: number): void {
  const target = rms(speech) * 10 ** (-snrDb / 20);
  const scale = target / Math.max(1e-9, rms(noise));
  for (let i = 0; i < speech.length; i++) speech[i] += noise[i % noise.length]! * scale;
}

export async function readRecordingSamples(rec: Recording): Promise<Float32Array> {
  return readWavFile(rec.file);
}
