/**
 * What a WAV header may declare before any sample is decoded or any buffer sized from it: a
 * header is data from outside, and one claiming 1 Hz would have the 16 kHz resampler allocate
 * gigabytes (issue 11, item 5). Shared by the whole-file decoder (wav-decode.ts) and the streaming
 * reader (wav-stream.ts), so both refuse the same files with the same words.
 */
import type { AudioSourceError } from './types.js';

export const SOX_CONVERT_HINT = 'convert with: sox in.wav -r 16000 -c 1 -b 16 out.wav';

/** Telephone speech is 8 kHz; below it the model hears nothing useful. 384 kHz is the fastest common converter. */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 384_000;
/** More than any microphone array this daemon would be given; a 65535-channel header is damage. */
export const MAX_CHANNELS = 64;

export const FORMAT_PCM = 1;
export const FORMAT_FLOAT = 3;
export const FORMAT_ALAW = 6;
export const FORMAT_MULAW = 7;
export const FORMAT_EXTENSIBLE = 0xfffe;
const SUPPORTED_INT_BITS = [8, 16, 24, 32];
const SUPPORTED_FLOAT_BITS = [32, 64];

/** Names of common encodings we refuse, so the error says what the file is. */
const UNSUPPORTED_FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG',
  85: 'MPEG layer 3',
};

/** The 'fmt ' chunk's fields, with WAVE_FORMAT_EXTENSIBLE already resolved to its sub-format. */
export interface WavFormat {
  format: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

export type Fail = (what: string, cause?: unknown) => AudioSourceError;

/**
 * Throws (through `fail`, which names the file) unless the format is one we decode and its
 * numbers agree with each other. `dataBytes` is the data chunk's declared size, or undefined when
 * it is not known (a stream whose writer could not seek back to fill it in).
 */
export function checkWavFormat(f: WavFormat, dataBytes: number | undefined, fail: Fail): void {
  checkEncoding(f.format, f.bitsPerSample, fail);
  const claims = `the header claims ${f.channels} channel${f.channels === 1 ? '' : 's'} at ${f.sampleRate} Hz`;
  if (!(f.channels >= 1 && f.channels <= MAX_CHANNELS)) {
    throw fail(`impossible WAV header: ${claims}; gearhear reads 1 to ${MAX_CHANNELS} channels; the file is damaged or not what it says (${SOX_CONVERT_HINT})`);
  }
  if (!(f.sampleRate >= MIN_SAMPLE_RATE && f.sampleRate <= MAX_SAMPLE_RATE)) {
    throw fail(
      `unsupported or impossible WAV header: ${claims}; gearhear reads ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} Hz; ${SOX_CONVERT_HINT}`,
    );
  }
  const bytesPerSample = f.format === FORMAT_ALAW || f.format === FORMAT_MULAW ? 1 : f.bitsPerSample / 8;
  const expectedAlign = f.channels * bytesPerSample;
  if (f.blockAlign !== expectedAlign) {
    throw fail(
      `inconsistent WAV header: block align ${f.blockAlign} bytes, but ${f.channels} channel(s) of ${f.bitsPerSample}-bit samples ` +
        `take ${expectedAlign}; the file is damaged (${SOX_CONVERT_HINT})`,
    );
  }
  if (f.byteRate !== f.sampleRate * f.blockAlign) {
    throw fail(
      `inconsistent WAV header: byte rate ${f.byteRate}, but ${f.sampleRate} Hz x ${f.blockAlign}-byte frames is ` +
        `${f.sampleRate * f.blockAlign}; the file is damaged (${SOX_CONVERT_HINT})`,
    );
  }
  if (dataBytes === 0) throw fail('the WAV file holds no audio (its data chunk declares 0 bytes); if audio follows the header, repair with: sox --ignore-length in.wav out.wav');
}

function checkEncoding(format: number, bits: number, fail: Fail): void {
  const ok =
    (format === FORMAT_PCM && SUPPORTED_INT_BITS.includes(bits)) ||
    (format === FORMAT_FLOAT && SUPPORTED_FLOAT_BITS.includes(bits)) ||
    ((format === FORMAT_ALAW || format === FORMAT_MULAW) && bits === 8);
  if (ok) return;
  const name = UNSUPPORTED_FORMAT_NAMES[format];
  const what =
    format === FORMAT_PCM || format === FORMAT_FLOAT
      ? `${bits}-bit ${format === FORMAT_PCM ? 'integer' : 'float'} samples are not supported`
      : format === FORMAT_ALAW || format === FORMAT_MULAW
        ? `${bits}-bit ${format === FORMAT_ALAW ? 'A-law' : 'mu-law'} samples are not supported (G.711 is 8-bit)`
        : `WAV encoding ${format}${name ? ` (${name})` : ''} is not supported`;
  throw fail(`${what}; ${SOX_CONVERT_HINT}`);
}

/** Reads a 'fmt ' chunk body (little-endian), resolving WAVE_FORMAT_EXTENSIBLE to its sub-format. */
export function parseFmtChunk(body: Uint8Array, fail: Fail): WavFormat {
  if (body.length < 16) throw fail(`not a readable WAV file (its fmt chunk is ${body.length} bytes, under 16); it may be damaged; ${SOX_CONVERT_HINT}`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let format = view.getUint16(0, true);
  if (format === FORMAT_EXTENSIBLE && body.length >= 26) format = view.getUint16(24, true);
  return {
    format,
    channels: view.getUint16(2, true),
    sampleRate: view.getUint32(4, true),
    byteRate: view.getUint32(8, true),
    blockAlign: view.getUint16(12, true),
    bitsPerSample: view.getUint16(14, true),
  };
}
