/**
 * The streaming WAV reader (wav-stream.ts) and the header checks it shares with the whole-file
 * decoder (wav-header.ts): real recordings from shared/data, converted by sox; damaged headers
 * written byte by byte.
 */
import t from 'tap';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readFile, writeFile } from 'node:fs/promises';
import { readWavFile } from '../../src/audio/wav-decode.js';
import { openWavFile, streamAudio } from '../../src/audio/wav-stream.js';
import { AudioSourceError } from '../../src/audio/types.js';
import { FileSource } from '../../src/audio/file.js';
import { makeTempDir, sharedData, soxConvert } from '../fixtures/audio-helpers.js';
import { concatSamples } from '../../src/audio/pcm.js';

const SENTENCE = path.join(sharedData, 'speech/sentences/librivox-pocketsphinx/sense_and_sensibility_01-0880.wav');

const tmp = await makeTempDir('gearhear-wavstream-');
t.teardown(tmp.remove);
/** 16 kHz mono 16-bit, about 9 s: three blocks of the reader (4 s each). */
const long16 = await soxConvert(SENTENCE, path.join(tmp.dir, 'long16.wav'), ['-r', '16000', '-c', '1', '-b', '16'], ['repeat', '2', 'trim', '0', '12']);

async function collect(blocks: AsyncIterable<Float32Array>): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const b of blocks) parts.push(b);
  return parts.length === 1 ? parts[0]!.slice() : concatSamples(parts);
}

const streamFile = async (file: string): Promise<Float32Array> => collect(streamAudio(await openWavFile(file)));

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Signal-to-error ratio (dB) of `x` against `truth` over their common length. */
function snrDb(x: Float32Array, truth: Float32Array): number {
  let se = 0, ss = 0;
  for (let i = 0; i < Math.min(x.length, truth.length); i++) {
    se += (x[i]! - truth[i]!) ** 2;
    ss += truth[i]! ** 2;
  }
  return 10 * Math.log10(ss / se);
}

t.test('16 kHz files stream to exactly what the whole-file decoder gives, in every encoding it reads', async (t) => {
  const encodings: Array<[string, string[]]> = [
    ['16-bit mono', ['-b', '16']],
    ['8-bit unsigned', ['-b', '8', '-e', 'unsigned-integer']],
    ['24-bit', ['-b', '24']],
    ['32-bit integer', ['-b', '32', '-e', 'signed-integer']],
    ['32-bit float', ['-b', '32', '-e', 'floating-point']],
    ['64-bit float', ['-b', '64', '-e', 'floating-point']],
    ['A-law', ['-e', 'a-law']],
    ['mu-law', ['-e', 'mu-law']],
    ['16-bit stereo', ['-b', '16', '-c', '2']],
    ['16-bit 3 channels', ['-b', '16', '-c', '3']],
  ];
  for (const [what, args] of encodings) {
    const file = await soxConvert(long16, path.join(tmp.dir, `${what.replace(/\W+/g, '-')}.wav`), ['-r', '16000', ...args]);
    const whole = await readWavFile(file);
    const streamed = await streamFile(file);
    t.ok(sameBits(streamed, whole), `${what}: ${streamed.length} samples, bit-identical to readWavFile`);
  }
  const stereo24 = await soxConvert(long16, path.join(tmp.dir, 'stereo24.wav'), ['-r', '16000', '-c', '2', '-b', '24']);
  const diff = maxDiff(await streamFile(stereo24), await readWavFile(stereo24));
  t.ok(diff < 1e-6, `24-bit stereo: within float rounding of readWavFile (max difference ${diff})`);
});

t.test('other rates are resampled block by block, as faithfully as the whole-file conversion and with its length', async (t) => {
  const truth = await readWavFile(long16);
  for (const rate of [8000, 22050, 44100, 48000]) {
    const file = await soxConvert(long16, path.join(tmp.dir, `at-${rate}.wav`), ['-r', String(rate), '-c', '2', '-b', '16']);
    const whole = await readWavFile(file);
    const streamed = await streamFile(file);
    t.equal(streamed.length, whole.length, `${rate} Hz: ${streamed.length} samples, as many as readWavFile gives`);
    const streamedSnr = snrDb(streamed, truth);
    const wholeSnr = snrDb(whole, truth);
    // Against the 16 kHz original the conversion came from: block edges must not cost fidelity.
    t.ok(streamedSnr >= wholeSnr - 0.5, `${rate} Hz: streamed ${streamedSnr.toFixed(1)} dB vs whole-file ${wholeSnr.toFixed(1)} dB against the original`);
  }
});

/** A canonical 44-byte PCM header with the given fields, followed by `data` (default: 0.1 s of silence at 16 kHz). */
function wavHeader(f: { channels?: number; rate?: number; bits?: number; blockAlign?: number; byteRate?: number; dataBytes?: number; format?: number }, data?: Uint8Array): Buffer {
  const channels = f.channels ?? 1;
  const rate = f.rate ?? 16000;
  const bits = f.bits ?? 16;
  const blockAlign = f.blockAlign ?? (channels * bits) / 8;
  const body = data ?? new Uint8Array(3200);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + body.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(f.format ?? 1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate >>> 0, 24);
  h.writeUInt32LE((f.byteRate ?? rate * blockAlign) >>> 0, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(f.dataBytes ?? body.length, 40);
  return Buffer.concat([h, body]);
}

t.test('impossible or inconsistent headers are refused, naming the file, before anything is decoded', async (t) => {
  // The cases: 1 and 2 Hz headers (81-162 KB files made `detect` allocate 3.9-5.2 GB), rate 2^32-1, 65535 channels, data size 0.
  const cases: Array<[string, Buffer, RegExp]> = [
    ['1 Hz', wavHeader({ rate: 1 }, new Uint8Array(81_000)), /claims 1 channel at 1 Hz; gearhear reads 8000 to 384000 Hz/],
    ['2 Hz', wavHeader({ rate: 2 }, new Uint8Array(162_000)), /at 2 Hz; gearhear reads 8000 to 384000 Hz/],
    ['4294967295 Hz', wavHeader({ rate: 4294967295, byteRate: 0 }), /at 4294967295 Hz/],
    ['65535 channels', wavHeader({ channels: 65535, blockAlign: 2 }), /claims 65535 channels.*1 to 64 channels/],
    ['a block align that does not fit the channels', wavHeader({ channels: 2, blockAlign: 2 }), /block align 2 bytes, but 2 channel\(s\) of 16-bit samples take 4/],
    ['a byte rate that does not fit the rate', wavHeader({ byteRate: 1000 }), /byte rate 1000, but 16000 Hz x 2-byte frames is 32000/],
    ['an empty data chunk', wavHeader({}, new Uint8Array(0)), /holds no audio \(its data chunk declares 0 bytes\).*sox --ignore-length/],
    ['12-bit samples', wavHeader({ bits: 12, blockAlign: 2 }), /12-bit integer samples are not supported/],
  ];
  for (const [what, bytes, message] of cases) {
    const file = path.join(tmp.dir, `bad-${what.replace(/\W+/g, '-')}.wav`);
    await writeFile(file, bytes);
    for (const [reader, read] of [['readWavFile', () => readWavFile(file)], ['streamAudio', () => streamFile(file)]] as const) {
      const failure = await read().then(() => undefined, (err: unknown) => err);
      t.ok(failure instanceof AudioSourceError && failure.fatal, `${what}: ${reader} fails with a fatal AudioSourceError`);
      t.match((failure as Error)?.message, message, `${what}: ${reader} says what is wrong`);
      t.ok((failure as Error)?.message.startsWith(file), `${what}: ${reader} names the file`);
    }
    await t.rejects(new FileSource({ path: file, pace: 'fast' }).start(), AudioSourceError, `${what}: FileSource.start() rejects`);
  }
});

t.test('a good header still reads: the edges of the accepted range', async (t) => {
  for (const [rate, channels] of [[8000, 1], [384000, 1], [16000, 64]] as const) {
    const frames = 1000;
    const file = path.join(tmp.dir, `edge-${rate}-${channels}.wav`);
    await writeFile(file, wavHeader({ rate, channels }, new Uint8Array(frames * channels * 2)));
    const samples = await streamFile(file);
    t.equal(samples.length, Math.trunc((frames * 16000) / rate), `${rate} Hz, ${channels} channel(s): read`);
  }
});

t.test('a truncated file is an error; a pipe whose writer could not fill in the sizes is read to its end', async (t) => {
  const whole = await readFile(long16);
  const cut = path.join(tmp.dir, 'cut.wav');
  await writeFile(cut, whole.subarray(0, 50_000));
  await t.rejects(streamFile(cut), /cut\.wav: WAV file is truncated: the data chunk declares \d+ bytes but only 49956.*sox --ignore-length/);
  // sox writing to a pipe declares 0x7ffff000 bytes; an empty size (0) from other writers means the same on a stream.
  const expected = await readWavFile(long16);
  for (const declared of [0x7ffff000, 0]) {
    const piped = Buffer.from(whole);
    piped.writeUInt32LE(declared, 40);
    const chunks = Array.from({ length: Math.ceil(piped.length / 4093) }, (_, i) => piped.subarray(i * 4093, (i + 1) * 4093));
    const samples = await collect(streamAudio({ name: 'stdin', bytes: Readable.from(chunks) }));
    t.ok(sameBits(samples, expected), `declared size ${declared}: all ${samples.length} samples, in 4093-byte reads`);
  }
});

t.test('on stdin, input without a RIFF header is raw 16 kHz s16le, as audio.source=stdin reads it', async (t) => {
  const wav = await readFile(long16);
  const raw = wav.subarray(44);
  const samples = await collect(streamAudio({ name: 'stdin', bytes: Readable.from([raw.subarray(0, 1001), raw.subarray(1001)]) }, { rawWhenNotWav: true }));
  t.ok(sameBits(samples, await readWavFile(long16)), `${samples.length} samples, bit-identical to the WAV's`);
});
