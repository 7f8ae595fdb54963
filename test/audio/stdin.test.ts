import t from 'tap';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { StdinSource } from '../../src/audio/stdin.js';
import type { AudioChunk } from '../../src/audio/types.js';
import { audioSourceSuite } from './source-suite.js';
import { sharedData } from '../fixtures/audio-helpers.js';

const WORD = path.join(sharedData, 'speech/words/speech_commands-scr/bed/62581901_nohash_0.wav');

/** The raw S16_LE PCM of a 16 kHz mono 16-bit WAV (the bytes after its 'data' header). */
async function pcmOf(file: string): Promise<Buffer> {
  const bytes = await readFile(file);
  const dataAt = bytes.indexOf('data');
  return bytes.subarray(dataAt + 8, dataAt + 8 + bytes.readUInt32LE(dataAt + 4));
}

/** Writes `bytes` in pieces of `piece` bytes (odd sizes split samples across chunks), then ends. */
function writeInPieces(stream: PassThrough, bytes: Buffer, piece: number): void {
  for (let at = 0; at < bytes.length; at += piece) stream.write(bytes.subarray(at, at + piece));
  stream.end();
}

const listenerCounts = (s: PassThrough): number[] => ['data', 'end', 'error'].map((e) => s.listenerCount(e));

const pcm = await pcmOf(WORD);

audioSourceSuite(t, {
  name: 'StdinSource',
  async create() {
    const stream = new PassThrough();
    const before = listenerCounts(stream);
    return {
      source: new StdinSource({ stream }),
      expectedSamples: pcm.length / 2,
      feed: () => writeInPieces(stream, pcm, 1001),
      assertReleased(t) {
        t.same(listenerCounts(stream), before, 'the source removed its stream listeners');
      },
    };
  },
  async createBroken() {
    const stream = new PassThrough();
    const source = new StdinSource({ stream });
    source.once('status', () => setImmediate(() => stream.destroy(new Error('EIO: i/o error, read'))));
    return source;
  },
});

t.test('samples decode exactly, whatever the byte chunking', async (t) => {
  for (const piece of [1, 3, 4096, 4097]) {
    const stream = new PassThrough();
    const source = new StdinSource({ stream });
    const chunks: AudioChunk[] = [];
    source.on('data', (c) => chunks.push(c));
    const ended = new Promise<void>((resolve) => source.once('end', resolve));
    await source.start();
    writeInPieces(stream, pcm.subarray(0, 20_000), piece);
    await ended;
    const samples = Float32Array.from(chunks.flatMap((c) => [...c.samples]));
    const expected = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + 20_000));
    t.equal(samples.length, 10_000, `${piece}-byte pieces: 10000 samples`);
    t.ok(expected.every((v, i) => v / 32768 === samples[i]), `${piece}-byte pieces: each equals int16 / 32768`);
  }
});

t.test('a stream ending on half a sample drops that byte and still ends', async (t) => {
  const stream = new PassThrough();
  const source = new StdinSource({ stream });
  let total = 0;
  source.on('data', (c) => (total += c.samples.length));
  const ended = new Promise<void>((resolve) => source.once('end', resolve));
  await source.start();
  writeInPieces(stream, pcm.subarray(0, 1001), 1001);
  await ended;
  t.equal(total, 500);
});

t.test('a stream in text mode is a fatal error', async (t) => {
  const stream = new PassThrough({ encoding: 'utf8' });
  const source = new StdinSource({ stream });
  const failed = new Promise<Error>((resolve) => source.once('error', resolve));
  await source.start();
  stream.write(Buffer.from('abcd'));
  t.match((await failed).message, /must be a byte stream/);
  await source.stop();
});
