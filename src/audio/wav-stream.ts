/**
 * WAV audio read as a stream of 16 kHz mono blocks, in memory bounded by the block size whatever
 * the file's length (issue 11, item 7): from a file (whose size is known, so truncation is an
 * error) or from a pipe (whose writer could not fill in the sizes: read to the end). The header is
 * checked (wav-header.ts) before any block is sized from it. Decodes what wav-decode.ts decodes
 * from RIFF files: 8/16/24/32-bit integer PCM, 32/64-bit float, A-law and mu-law, any channel count.
 *
 * Files at other rates are resampled block by block with wav-decode's resampler (a low-pass run
 * forwards and backwards, then cubic interpolation). Each block is resampled with a margin of the
 * audio on either side and only its middle kept, so the filters' edge transients fall in the
 * margins; the result follows the whole-file conversion closely but not bit for bit.
 */
import { open } from 'node:fs/promises';
import { AudioSourceError, SAMPLE_RATE } from './types.js';
import { clampToUnit, S16leDecoder } from './pcm.js';
import { cubicHermiteAt, lowPassBothWays } from './resample.js';
import {
  checkWavFormat, FORMAT_ALAW, FORMAT_FLOAT, FORMAT_MULAW, parseFmtChunk, SOX_CONVERT_HINT, type Fail, type WavFormat,
} from './wav-header.js';

/** Upper bound of one block of raw input, whatever its rate and channel count. */
const MAX_BLOCK_BYTES = 1 << 20;
/** Seconds of audio per block (less when MAX_BLOCK_BYTES is reached first). */
const BLOCK_SEC = 4;
/** Margin on each side of a block when resampling: the filters' transients decay well within it. */
const MARGIN_SEC = 0.25;
/** A 'fmt ' chunk is 16 to 40 bytes; anything this large is damage, not a header. */
const MAX_FMT_BYTES = 1024;
const READ_BYTES = 1 << 16;

export interface WavStreamInput {
  /** Names the input in errors: a path, or "stdin". */
  name: string;
  bytes: AsyncIterable<Uint8Array>;
  /** The input's total size when it is a file: a data chunk longer than the file is then an error. */
  sizeBytes?: number;
}

/** A byte source read in exact amounts (fewer only at the end). */
class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private done = false;
  consumed = 0;

  constructor(bytes: AsyncIterable<Uint8Array>) {
    this.iterator = bytes[Symbol.asyncIterator]();
  }

  /** The next `n` bytes without consuming them (fewer at the end). */
  async peek(n: number): Promise<Uint8Array> {
    while (this.pendingBytes < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else if (next.value.length > 0) {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
    const all = this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.pendingBytes);
    this.pending = this.pendingBytes > 0 ? [all] : [];
    return all.subarray(0, Math.min(n, all.length));
  }

  async read(n: number): Promise<Uint8Array> {
    const head = Uint8Array.from(await this.peek(n));
    const rest = this.pending[0]?.subarray(head.length);
    this.pending = rest && rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest?.length ?? 0;
    this.consumed += head.length;
    return head;
  }

  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const part = await this.read(Math.min(READ_BYTES, n - skipped));
      if (part.length === 0) break;
      skipped += part.length;
    }
    return skipped;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const failFor =
  (name: string): Fail =>
  (what, cause) =>
    new AudioSourceError(`${name}: ${what}`, name === 'stdin' ? 'stdin' : `file:${name}`, true, { cause });

const fourCC = (b: Uint8Array, at = 0): string => String.fromCharCode(...b.subarray(at, at + 4));
const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

/** Opens a WAV file for streamWav; a file that cannot be opened is a fatal error naming it. */
export async function openWavFile(path: string): Promise<WavStreamInput> {
  try {
    const handle = await open(path, 'r');
    const { size } = await handle.stat();
    return { name: path, sizeBytes: size, bytes: handle.createReadStream({ highWaterMark: READ_BYTES }) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AudioSourceError(`cannot read WAV file ${path}: ${reason}`, `file:${path}`, true, { cause: err });
  }
}

export interface StreamAudioOptions {
  /** Input that does not start with a RIFF header is raw s16le 16 kHz mono PCM (`detect -`). */
  rawWhenNotWav?: boolean;
  /** How to read a big-endian RIFX file, which is not streamed (whole, through wav-decode.ts). */
  readWhole?: () => Promise<Float32Array>;
}

/**
 * 16 kHz mono blocks in [-1, 1] of a WAV input. On stdin, input that does not start with a RIFF
 * header is taken as raw signed 16-bit little-endian 16 kHz mono PCM (what `audio.source=stdin` reads).
 */
export async function* streamAudio(input: WavStreamInput, options: StreamAudioOptions = {}): AsyncGenerator<Float32Array> {
  const reader = new ByteReader(input.bytes);
  try {
    const magic = fourCC(await reader.peek(4));
    if (magic === 'RIFX' && options.readWhole) {
      yield await options.readWhole(); // big-endian WAV: rare enough to be decoded whole by wav-decode.ts
      return;
    }
    if (options.rawWhenNotWav && magic !== 'RIFF') {
      yield* streamRaw(reader);
      return;
    }
    yield* streamWav(reader, input);
  } finally {
    await reader.close();
  }
}

async function* streamRaw(reader: ByteReader): AsyncGenerator<Float32Array> {
  const decoder = new S16leDecoder();
  for (;;) {
    const bytes = await reader.read(READ_BYTES);
    if (bytes.length === 0) return;
    yield decoder.push(bytes);
  }
}

async function* streamWav(reader: ByteReader, input: WavStreamInput): AsyncGenerator<Float32Array> {
  const fail = failFor(input.name);
  const { format, dataBytes } = await readHeader(reader, input, fail);
  const frameBytes = format.blockAlign;
  const blockFrames = Math.max(1, Math.min(Math.round(format.sampleRate * BLOCK_SEC), Math.floor(MAX_BLOCK_BYTES / frameBytes)));
  const resampler = format.sampleRate === SAMPLE_RATE ? null : new BlockResampler(format.sampleRate);
  let left = dataBytes ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const want = Math.min(left, blockFrames * frameBytes);
    const bytes = await reader.read(want);
    left -= bytes.length;
    const whole = bytes.length - (bytes.length % frameBytes); // a partial last frame (writer killed mid-sample) is dropped
    if (whole > 0) {
      const mono = toMono(bytes.subarray(0, whole), format);
      if (!resampler) yield clampToUnit(mono);
      else for (const out of resampler.push(mono)) yield clampToUnit(out);
    }
    if (bytes.length < want) break; // the input ended
  }
  if (resampler) for (const out of resampler.finish()) yield clampToUnit(out);
}

async function readHeader(reader: ByteReader, input: WavStreamInput, fail: Fail): Promise<{ format: WavFormat; dataBytes: number | undefined }> {
  const riff = await reader.read(12);
  if (riff.length < 12 || fourCC(riff) !== 'RIFF' || fourCC(riff, 8) !== 'WAVE') {
    const what = fourCC(riff) === 'RIFX' ? 'a big-endian (RIFX) WAV, which is read only whole, not streamed' : 'not a WAV file (no RIFF/WAVE header)';
    throw fail(`${what}; ${SOX_CONVERT_HINT}`);
  }
  let format: WavFormat | undefined;
  for (;;) {
    const head = await reader.read(8);
    if (head.length < 8) throw fail(`not a readable WAV file (no data chunk); it may be truncated or damaged; ${SOX_CONVERT_HINT}`);
    const id = fourCC(head);
    const size = u32(head, 4);
    if (id === 'fmt ') {
      if (size > MAX_FMT_BYTES) throw fail(`not a readable WAV file (a fmt chunk of ${size} bytes); it is damaged; ${SOX_CONVERT_HINT}`);
      format = parseFmtChunk(await reader.read(size), fail);
      await reader.skip(size % 2);
    } else if (id === 'data') {
      if (!format) throw fail(`not a readable WAV file (audio data before its fmt chunk); ${SOX_CONVERT_HINT}`);
      return { format, dataBytes: checkDataSize(format, size, reader.consumed, input, fail) };
    } else if ((await reader.skip(size + (size % 2))) < size) {
      throw fail(`not a readable WAV file (its "${id.replace(/[^\x20-\x7e]/g, '?')}" chunk runs past the end); ${SOX_CONVERT_HINT}`);
    }
  }
}

/** The data chunk's size to read, or undefined for "to the end" (a pipe's writer cannot fill it in). */
function checkDataSize(format: WavFormat, declared: number, dataOffset: number, input: WavStreamInput, fail: Fail): number | undefined {
  if (input.sizeBytes === undefined) {
    checkWavFormat(format, undefined, fail);
    return declared === 0 ? undefined : declared;
  }
  checkWavFormat(format, declared, fail);
  const present = input.sizeBytes - dataOffset;
  if (present < declared) {
    throw fail(
      `WAV file is truncated: the data chunk declares ${declared} bytes but only ${present} are present; ` +
        'repair with: sox --ignore-length in.wav out.wav',
    );
  }
  return declared;
}

/** Whole frames of interleaved samples -> mono floats (the channel average), not yet clamped. */
function toMono(bytes: Uint8Array, f: WavFormat): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = bytes.length / f.blockAlign;
  const mono = new Float32Array(frames);
  const width = f.blockAlign / f.channels;
  const sample = sampleReader(view, f, width);
  for (let frame = 0, at = 0; frame < frames; frame++) {
    let sum = 0;
    for (let c = 0; c < f.channels; c++, at += width) sum += sample(at);
    mono[frame] = f.channels === 1 ? sum : sum / f.channels;
  }
  return mono;
}

function sampleReader(view: DataView, f: WavFormat, width: number): (at: number) => number {
  if (f.format === FORMAT_FLOAT) return width === 4 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  if (f.format === FORMAT_ALAW) return (at) => alawToInt16(view.getUint8(at)) / 32768;
  if (f.format === FORMAT_MULAW) return (at) => mulawToInt16(view.getUint8(at)) / 32768;
  switch (width) {
    case 1: return (at) => (view.getUint8(at) - 128) / 128;
    case 2: return (at) => view.getInt16(at, true) / 32768;
    case 3: return (at) => (((view.getUint8(at + 2) << 24) | (view.getUint8(at + 1) << 16) | (view.getUint8(at) << 8)) >> 8) / 8388608;
    default: return (at) => view.getInt32(at, true) / 2147483648;
  }
}

/** G.711 A-law byte -> 16-bit linear (as alawmulaw, which wavefile uses, decodes it). */
function alawToInt16(code: number): number {
  let a = code ^ 0x55;
  const negative = (a & 0x80) !== 0;
  a &= 0x7f;
  const position = ((a & 0xf0) >> 4) + 4;
  const decoded = position !== 4 ? (1 << position) | ((a & 0x0f) << (position - 4)) | (1 << (position - 5)) : (a << 1) | 1;
  return (negative ? -decoded : decoded) * -8;
}

/** G.711 mu-law byte -> 16-bit linear (as alawmulaw decodes it). */
function mulawToInt16(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (u & 0x80) !== 0 ? -magnitude : magnitude;
}

/**
 * Resamples consecutive mono blocks to 16 kHz the way resample.ts does a whole file (low-pass run
 * forwards and backwards, cubic Hermite interpolation), on one global grid: output sample j is
 * input position j * rate / 16000. A block is converted once the next has arrived: the filters run
 * over it with MARGIN_SEC of its neighbours on each side (their edge transients die out there) and
 * only the block's own output is kept, so neither length nor timing drifts from block to block.
 */
class BlockResampler {
  private readonly margin: number;
  /** Input samples per output sample. */
  private readonly step: number;
  private before = new Float32Array(0);
  private current: Float32Array | null = null;
  /** Input samples converted so far (all blocks before `current`). */
  private inputDone = 0;
  /** Output samples emitted so far. */
  private outputDone = 0;

  constructor(private readonly rate: number) {
    this.margin = Math.ceil(rate * MARGIN_SEC);
    this.step = rate / SAMPLE_RATE;
  }

  push(mono: Float32Array): Float32Array[] {
    const out = this.current ? [this.convert(this.current, mono)] : [];
    this.current = mono;
    return out;
  }

  finish(): Float32Array[] {
    const out = this.current ? [this.convert(this.current, new Float32Array(0), true)] : [];
    this.current = null;
    return out;
  }

  private convert(block: Float32Array, next: Float32Array, last = false): Float32Array {
    const after = next.subarray(0, this.margin);
    const padded = new Float64Array(this.before.length + block.length + after.length);
    padded.set(this.before, 0);
    padded.set(block, this.before.length);
    padded.set(after, this.before.length + block.length);
    const origin = this.inputDone - this.before.length; // input index of padded[0]
    const blockEnd = this.inputDone + block.length;
    // Output samples whose input position falls in this block; the last block takes the rest, as a whole-file conversion would.
    const end = last ? Math.trunc(blockEnd / this.step) : Math.ceil(blockEnd / this.step);
    const kept = new Float32Array(Math.max(0, end - this.outputDone));
    if (this.rate > SAMPLE_RATE) {
      lowPassBothWays(padded, this.rate);
      for (let i = 0; i < kept.length; i++) kept[i] = cubicHermiteAt(padded, (this.outputDone + i) * this.step - origin);
    } else {
      // Upsampling: interpolate the padded span onto the output grid, then low-pass it at 16 kHz.
      const first = Math.ceil(origin / this.step);
      const grid = new Float64Array(Math.max(0, Math.floor((origin + padded.length - 1) / this.step) - first + 1));
      for (let i = 0; i < grid.length; i++) grid[i] = cubicHermiteAt(padded, (first + i) * this.step - origin);
      lowPassBothWays(grid, this.rate);
      for (let i = 0; i < kept.length; i++) kept[i] = grid[this.outputDone + i - first] ?? 0;
    }
    this.outputDone += kept.length;
    this.inputDone = blockEnd;
    this.before = block.slice(Math.max(0, block.length - this.margin));
    return kept;
  }
}
