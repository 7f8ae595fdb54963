/**
 * WAV decoding to 16 kHz mono float, on top of the `wavefile` package (parsing, A-law/mu-law
 * and the less common sample formats). Done here: 16-bit PCM read straight from the data chunk
 * (the common case, ~100x faster than wavefile's generic getSamples), integer scaling to [-1, 1],
 * the channel average, and resampling (resample.ts: wavefile's algorithm, same output, faster,
 * and in slices that yield to the event loop when called through readWavFile).
 */
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { AudioSourceError, SAMPLE_RATE } from './types.js';
import { clampToUnit } from './pcm.js';
import { resampleInSlices, resampleTo16k } from './resample.js';
import {
  FORMAT_ALAW, FORMAT_EXTENSIBLE, FORMAT_FLOAT, FORMAT_MULAW, FORMAT_PCM, SOX_CONVERT_HINT, checkWavFormat, type Fail,
} from './wav-header.js';

const { WaveFile } = wavefile;

export { SOX_CONVERT_HINT } from './wav-header.js';

const INT16_SCALE = 1 / 32768;
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Reads a WAV file and returns its audio as 16 kHz mono samples in [-1, 1]. */
export async function readWavFile(path: string): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AudioSourceError(`cannot read WAV file ${path}: ${reason}`, `file:${path}`, true, { cause: err });
  }
  const fail = failFor(path);
  const { mono, sampleRate } = decodeToMono(bytes, fail);
  if (sampleRate === SAMPLE_RATE) return clampToUnit(mono);
  try {
    // Resampled in slices, so the event loop keeps turning while a long file is converted.
    return clampToUnit(await resampleInSlices(mono, sampleRate));
  } catch (err) {
    throw resampleError(err, sampleRate, fail);
  }
}

/** Decodes WAV bytes (any PCM rate, 8/16/24/32-bit int, 32/64-bit float, A-law, mu-law, any channel count). */
export function decodeWav(bytes: Uint8Array, name: string): Float32Array {
  const fail = failFor(name);
  const { mono, sampleRate } = decodeToMono(bytes, fail);
  if (sampleRate === SAMPLE_RATE) return clampToUnit(mono);
  try {
    return clampToUnit(resampleTo16k(mono, sampleRate));
  } catch (err) {
    throw resampleError(err, sampleRate, fail);
  }
}

const failFor =
  (name: string): Fail =>
  (what, cause) =>
    new AudioSourceError(`${name}: ${what}`, `file:${name}`, true, { cause });

function resampleError(err: unknown, fromRate: number, fail: Fail): AudioSourceError {
  return fail(`cannot resample from ${fromRate} Hz (${err instanceof Error ? err.message : String(err)}); ${SOX_CONVERT_HINT}`, err);
}

/** Validates and decodes the file to mono samples at its own rate (not yet clamped). */
function decodeToMono(bytes: Uint8Array, fail: Fail): { mono: Float32Array; sampleRate: number } {
  let wav = parse(bytes, fail);
  const format = effectiveFormat(wav);
  if (fmtOf(wav).audioFormat === FORMAT_EXTENSIBLE && format === FORMAT_FLOAT) {
    // wavefile reads WAVE_FORMAT_EXTENSIBLE float as integers; present it as plain float instead.
    wav = parse(withPlainFormatTag(bytes, FORMAT_FLOAT), fail);
  }
  const { numChannels, sampleRate, bitsPerSample, blockAlign, byteRate } = fmtOf(wav);
  const data = dataOf(wav);
  // Before anything is decoded or resampled: buffers are sized from these numbers.
  checkWavFormat({ format, channels: numChannels, sampleRate, byteRate, blockAlign, bitsPerSample }, data.chunkSize, fail);
  const present = data.samples.length;
  if (present < data.chunkSize) {
    throw fail(
      `WAV file is truncated: the data chunk declares ${data.chunkSize} bytes but only ${present} are present; ` +
        'repair with: sox --ignore-length in.wav out.wav',
    );
  }
  if (format === FORMAT_ALAW) wav.fromALaw();
  if (format === FORMAT_MULAW) wav.fromMuLaw();
  // A partial last frame (writer killed mid-sample) is dropped.
  const decoded = dataOf(wav);
  decoded.samples = decoded.samples.subarray(0, decoded.samples.length - (decoded.samples.length % fmtOf(wav).blockAlign));

  if (format === FORMAT_PCM && bitsPerSample === 16 && wav.container === 'RIFF') {
    return { mono: s16leToMono(decoded.samples, numChannels), sampleRate }; // the common case, read directly
  }
  const interleaved = wav.getSamples(true, Float32Array) as unknown as Float32Array;
  scaleToUnit(interleaved, format === FORMAT_FLOAT ? 0 : fmtOf(wav).bitsPerSample);
  return { mono: mixToMono(interleaved, numChannels), sampleRate };
}

/**
 * Interleaved signed 16-bit little-endian samples to mono floats in [-1, 1): the channel average of
 * value / 32768, exactly what scaleToUnit + mixToMono give (integer sums are exact in a double).
 */
function s16leToMono(bytes: Uint8Array, channels: number): Float32Array {
  const count = bytes.byteLength >> 1;
  const frames = Math.floor(count / channels);
  const mono = new Float32Array(frames);
  const ints = int16View(bytes, count);
  if (channels === 1) {
    for (let f = 0; f < frames; f++) mono[f] = ints[f]! * INT16_SCALE;
    return mono;
  }
  for (let f = 0, i = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += ints[i++]!;
    mono[f] = (sum * INT16_SCALE) / channels;
  }
  return mono;
}

type Wave = InstanceType<typeof WaveFile>;
/** The parts of wavefile's chunk objects we read (its typings declare them as plain `object`). */
interface FmtChunk {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  byteRate: number;
  subformat?: number[];
}
interface DataChunk {
  chunkSize: number;
  samples: Uint8Array;
}
const fmtOf = (wav: Wave): FmtChunk => wav.fmt as FmtChunk;
const dataOf = (wav: Wave): DataChunk => wav.data as DataChunk;

function parse(bytes: Uint8Array, fail: Fail): Wave {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (/not a supported format/i.test(reason)) throw fail(`not a WAV file (no RIFF/WAVE header); ${SOX_CONVERT_HINT}`, err);
    throw fail(`not a readable WAV file (${reason}); it may be truncated or damaged; ${SOX_CONVERT_HINT}`, err);
  }
  return wav;
}

/** The format code, looking through WAVE_FORMAT_EXTENSIBLE to its sub-format. */
function effectiveFormat(wav: Wave): number {
  const fmt = fmtOf(wav);
  if (fmt.audioFormat !== FORMAT_EXTENSIBLE) return fmt.audioFormat;
  const sub = fmt.subformat?.[0];
  return sub === undefined ? FORMAT_EXTENSIBLE : sub;
}

/** A copy of a little-endian RIFF WAV with the 'fmt ' chunk's format tag replaced. */
function withPlainFormatTag(bytes: Uint8Array, formatTag: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const view = new DataView(copy.buffer);
  for (let at = 12; at + 10 <= copy.length; ) {
    const id = String.fromCharCode(...copy.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      view.setUint16(at + 8, formatTag, true);
      break;
    }
    at += 8 + size + (size % 2);
  }
  return copy;
}

/** Integers to [-1, 1): 8-bit WAV is unsigned, wider ones signed. Floats (bits 0) are left as they are. */
function scaleToUnit(samples: Float32Array, bits: number): void {
  if (bits === 0) return;
  const offset = bits === 8 ? 128 : 0;
  const scale = 1 / 2 ** (bits - 1);
  for (let i = 0; i < samples.length; i++) samples[i] = (samples[i]! - offset) * scale;
}

function mixToMono(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Float32Array(frames);
  for (let f = 0, i = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i++]!;
    mono[f] = sum / channels;
  }
  return mono;
}

/** The first `count` little-endian 16-bit integers of `bytes`, as host-order Int16Array (a view when possible). */
function int16View(bytes: Uint8Array, count: number): Int16Array {
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int16Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true));
}
