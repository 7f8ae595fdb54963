/**
 * One enrolment take, checked and trimmed before it is kept: refused when it is silent, too quiet,
 * clipped, holds no speech the voice-activity gate hears, or more speech than one term; else cut to
 * the gate's speech (with a little audio either side) and the sample where the speech ends found.
 */
import { blockLevelDbfs } from '../audio/level.js';
import { SAMPLE_RATE } from '../audio/types.js';
import { createGate, type GateOptions } from '../vad/index.js';

/** Samples at or beyond this magnitude count as clipped (a 16-bit full-scale sample is 32767/32768). */
export const CLIP_LEVEL = 0.999;
/** A take with more clipped samples than this share is refused. */
export const MAX_CLIPPED_SHARE = 0.001;
/** Speech quieter than this (dBFS, over the gate's speech) is refused: move closer or raise the gain. */
export const MIN_SPEECH_DBFS = -45;
/** A take's speech longer than this is more than a term said once. */
export const MAX_SPEECH_SEC = 3;
/** Audio kept either side of the gate's speech. */
export const KEEP_AROUND_SEC = 0.25;
const FRAME = 160; // 10 ms
/** Silence the gate hears either side of a take (speechSpan). */
const QUIET_PAD_SEC = 0.5;
/** The speech ends at the last 10 ms frame within this many dB of the loudest frame. */
const END_BELOW_PEAK_DB = 30;

export class TakeError extends Error {
  override name = 'TakeError';
}

export interface CheckedTake {
  /** The take cut to its speech, 16 kHz mono in [-1, 1]. */
  samples: Float32Array;
  /** Sample of `samples` where the speech ends (the term's end). */
  speechEnd: number;
  speechSec: number;
  levelDbfs: number;
  peak: number;
  clippedShare: number;
}

/** Checks and trims one take; throws TakeError naming `name` and what to do. */
export async function checkTake(samples: Float32Array, name: string, gate: Partial<GateOptions> = {}): Promise<CheckedTake> {
  let peak = 0, clipped = 0;
  for (const v of samples) {
    const a = Math.abs(v);
    if (a > peak) peak = a;
    if (a >= CLIP_LEVEL) clipped++;
  }
  if (samples.length < SAMPLE_RATE * 0.2) throw new TakeError(`${name}: only ${(samples.length / SAMPLE_RATE).toFixed(2)} s of audio; say the term once, with a moment of quiet before and after`);
  if (peak === 0) throw new TakeError(`${name}: digital silence (every sample is 0); check the microphone or the file`);
  const clippedShare = clipped / samples.length;
  if (clippedShare > MAX_CLIPPED_SHARE) {
    throw new TakeError(`${name}: clipped (${(clippedShare * 100).toFixed(2)} % of samples at full scale); lower the input gain or speak further from the microphone, then record it again`);
  }
  const span = await speechSpan(samples, gate);
  if (!span) throw new TakeError(`${name}: no speech heard (voice-activity gate); say the term closer to the microphone`);
  const speech = samples.subarray(span.start, span.end);
  const level = blockLevelDbfs(speech);
  if (level < MIN_SPEECH_DBFS) throw new TakeError(`${name}: too quiet (speech at ${level.toFixed(1)} dBFS, at least ${MIN_SPEECH_DBFS} needed); speak closer or raise the input gain`);
  const speechSec = (span.end - span.start) / SAMPLE_RATE;
  if (speechSec > MAX_SPEECH_SEC) throw new TakeError(`${name}: ${speechSec.toFixed(1)} s of speech; a take is the term said once (at most ${MAX_SPEECH_SEC} s)`);
  const around = Math.round(KEEP_AROUND_SEC * SAMPLE_RATE);
  const first = Math.max(0, span.start - around), last = Math.min(samples.length, span.end + around);
  const kept = samples.slice(first, last);
  return { samples: kept, speechEnd: Math.min(speechEndIn(kept), span.end - first), speechSec, levelDbfs: Math.round(level * 10) / 10, peak, clippedShare };
}

/**
 * First sample of the first segment the gate hears to the last sample of the last one, or null. When
 * the gate hears nothing, it hears the take again with QUIET_PAD_SEC of silence either side, as a
 * recording with a pause around the word: a file cut tight to the word (a dataset's clip) is heard too.
 */
async function speechSpan(samples: Float32Array, options: Partial<GateOptions>): Promise<{ start: number; end: number } | null> {
  return await gateSpan(samples, 0, options) ?? gateSpan(samples, Math.round(QUIET_PAD_SEC * SAMPLE_RATE), options);
}

async function gateSpan(samples: Float32Array, pad: number, options: Partial<GateOptions>): Promise<{ start: number; end: number } | null> {
  const gate = await createGate({ ...options, preRollMs: 0, hangoverMs: Math.min(options.hangoverMs ?? 300, 300) });
  const padded = pad > 0 ? new Float32Array(samples.length + 2 * pad) : samples;
  if (pad > 0) padded.set(samples, pad);
  try {
    const events = [...await gate.push({ samples: padded, offset: 0 }), ...await gate.flush()];
    let start = -1, end = -1;
    for (const e of events) {
      if (e.type === 'start' && start < 0) start = e.startSample;
      if (e.type === 'end') end = e.endSample;
    }
    if (start < 0 || end <= start) return null;
    const first = Math.max(0, start - pad), last = Math.min(end - pad, samples.length);
    return last <= first ? null : { start: first, end: last };
  } finally {
    await gate.dispose();
  }
}

/** End of the last 10 ms frame within END_BELOW_PEAK_DB of the loudest frame: where the word stops. */
export function speechEndIn(x: Float32Array): number {
  const levels: number[] = [];
  for (let i = 0; i + FRAME <= x.length; i += FRAME) levels.push(blockLevelDbfs(x.subarray(i, i + FRAME)));
  const top = Math.max(...levels);
  for (let f = levels.length - 1; f >= 0; f--) if (levels[f]! >= top - END_BELOW_PEAK_DB) return (f + 1) * FRAME;
  return x.length;
}
