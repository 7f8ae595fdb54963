import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wavefile from 'wavefile';
import type { Gate, GateEvent } from '../../src/vad/types.js';
import { concatSamples } from '../../src/audio/pcm.js';

export const SAMPLE_RATE = 16000;
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const dataDir = path.resolve(repoRoot, '../shared/data');

/** A temp dir removed when the test ends. */
export function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearhear-vad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Read a 16 kHz mono 16-bit WAV into floats in [-1, 1]. */
export function readWav16k(file: string): Float32Array {
  const wav = new wavefile.WaveFile(readFileSync(file));
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  if (fmt.sampleRate !== SAMPLE_RATE || fmt.numChannels !== 1 || fmt.bitsPerSample !== 16) {
    throw new Error(`${file}: expected 16 kHz mono 16-bit WAV, got ${fmt.sampleRate} Hz, ${fmt.numChannels} ch, ${fmt.bitsPerSample} bit`);
  }
  const ints = wav.getSamples(false, Int16Array) as unknown as Int16Array;
  return Float32Array.from(ints, (v) => v / 32768);
}

function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr}`);
}

/** Speak `text` with espeak-ng and convert it to 16 kHz mono 16-bit with sox. */
export function synthesize(dir: string, name: string, text: string): Float32Array {
  const raw = path.join(dir, `${name}-raw.wav`);
  const out = path.join(dir, `${name}.wav`);
  run('espeak-ng', ['-w', raw, text]);
  run('sox', [raw, '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16', out]);
  return readWav16k(out);
}

/** First and last sample index louder than `level` (where the speech actually is). */
export function activeRange(samples: Float32Array, level = 0.01): { first: number; last: number } {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) <= level) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]!) <= level) last--;
  return { first, last };
}

export const silence = (seconds: number): Float32Array => new Float32Array(Math.round(seconds * SAMPLE_RATE));

/** A new array of the parts end to end (a copy even of a single part, which callers may change). */
export const concat = (...parts: Float32Array[]): Float32Array => (parts.length === 1 ? parts[0]!.slice() : concatSamples(parts));

export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** `noise` (looped) scaled so that speech over its active part is `snrDb` louder, with speech added at `at`. */
export function mixAtSnr(noise: Float32Array, speech: Float32Array, at: number, totalSamples: number, snrDb: number): Float32Array {
  const { first, last } = activeRange(speech);
  const gain = rms(speech.subarray(first, last + 1)) / 10 ** (snrDb / 20) / rms(noise);
  const out = new Float32Array(totalSamples);
  for (let i = 0; i < totalSamples; i++) out[i] = noise[i % noise.length]! * gain;
  for (let i = 0; i < speech.length && at + i < totalSamples; i++) out[at + i]! += speech[i]!;
  return out;
}

export interface Segment {
  id: string;
  start: number;
  end: number;
  reason: string;
}

/** Feed `audio` in chunks of `chunkSize`, then flush; returns every event and the closed segments. */
export async function runGate(gate: Gate, audio: Float32Array, chunkSize = 1000): Promise<{ events: GateEvent[]; segments: Segment[] }> {
  const events: GateEvent[] = [];
  for (let at = 0; at < audio.length; at += chunkSize) {
    events.push(...(await gate.push({ samples: audio.slice(at, at + chunkSize), offset: at })));
  }
  events.push(...(await gate.flush()));
  const segments: Segment[] = [];
  const starts = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'start') starts.set(e.segmentId, e.startSample);
    if (e.type === 'end') segments.push({ id: e.segmentId, start: starts.get(e.segmentId) ?? NaN, end: e.endSample, reason: e.reason });
  }
  return { events, segments };
}

/**
 * Everything wrong with an event stream, as messages (empty when fine): each segment is
 * start, audio..., end; its audio starts at startSample, is contiguous, ends at endSample and
 * equals the input at those offsets; segments do not overlap; ids are unique.
 */
export function eventProblems(events: GateEvent[], input: Float32Array): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  let open: { id: string; next: number; start: number } | undefined;
  let previousEnd = -Infinity;
  for (const e of events) {
    if (e.type === 'start') {
      if (open) problems.push(`start ${e.segmentId} while ${open.id} is open`);
      if (seen.has(e.segmentId)) problems.push(`segment id ${e.segmentId} used twice`);
      if (e.startSample < previousEnd) problems.push(`${e.segmentId} starts at ${e.startSample}, before previous end ${previousEnd}`);
      seen.add(e.segmentId);
      open = { id: e.segmentId, next: e.startSample, start: e.startSample };
    } else if (!open || open.id !== e.segmentId) {
      problems.push(`${e.type} for ${e.segmentId} which is not open`);
    } else if (e.type === 'audio') {
      if (e.offset !== open.next) problems.push(`${e.segmentId}: audio at ${e.offset}, expected ${open.next}`);
      const expected = input.subarray(e.offset, e.offset + e.samples.length);
      if (expected.length !== e.samples.length || expected.some((v, i) => v !== e.samples[i])) {
        problems.push(`${e.segmentId}: audio at ${e.offset} differs from the input`);
      }
      open.next = e.offset + e.samples.length;
    } else {
      if (e.endSample !== open.next) problems.push(`${e.segmentId}: ends at ${e.endSample}, audio reached ${open.next}`);
      if (open.next === open.start) problems.push(`${e.segmentId}: no audio`);
      previousEnd = e.endSample;
      open = undefined;
    }
  }
  if (open) problems.push(`${open.id} never ended`);
  return problems;
}
