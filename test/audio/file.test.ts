import t from 'tap';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { FileSource, readWavFile } from '../../src/audio/file.js';
import { AudioSourceError, type AudioChunk } from '../../src/audio/types.js';
import { audioSourceSuite } from './source-suite.js';
import { makeTempDir, readManifest, sharedData, soxConvert, speak } from '../fixtures/audio-helpers.js';

const SHORT_WORD = path.join(sharedData, 'speech/words/fsdd/0_jackson_0.wav'); // 10296 samples
const SHORT_WORD_SAMPLES = 10296;

audioSourceSuite(t, {
  name: 'FileSource',
  async create() {
    return { source: new FileSource({ path: SHORT_WORD, pace: 'fast', chunkMs: 20 }), expectedSamples: SHORT_WORD_SAMPLES, assertReleased() {} };
  },
  async createBroken() {
    return new FileSource({ path: path.join(sharedData, 'no-such-file.wav') });
  },
});

/** Pearson correlation of a and b at the lag (within ±maxLag) where it is highest. */
function bestCorrelation(a: Float32Array, b: Float32Array, maxLag = 24): number {
  let best = -1;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sab = 0, saa = 0, sbb = 0;
    for (let i = Math.max(0, -lag); i < a.length && i + lag < b.length; i++) {
      const x = a[i]!, y = b[i + lag]!;
      sab += x * y; saa += x * x; sbb += y * y;
    }
    best = Math.max(best, sab / Math.sqrt(saa * sbb));
  }
  return best;
}

const rms = (s: Float32Array): number => Math.sqrt(s.reduce((n, v) => n + v * v, 0) / s.length);

t.test('readWavFile keeps 16 kHz mono 16-bit recordings bit-exact and full length', async (t) => {
  const rows = await readManifest();
  const picks = ['speech/sentences/speechbrain/', 'speech/sentences/whisper/', 'speech/words/speech_commands-scr/', 'noise/tumult/'].map(
    (prefix) => rows.find((r) => r.path.startsWith(prefix))!,
  );
  for (const row of picks) {
    const samples = await readWavFile(row.file);
    t.ok(Math.abs(samples.length - row.durationS * 16000) <= 16, `${row.path}: ${samples.length} samples for ${row.durationS} s`);
    const bytes = await readFile(row.file);
    const dataAt = bytes.indexOf('data') + 8;
    const raw = new Int16Array(bytes.buffer.slice(bytes.byteOffset + dataAt, bytes.byteOffset + dataAt + samples.length * 2));
    t.ok(raw.every((v, i) => v / 32768 === samples[i]), `${row.path}: samples equal the PCM / 32768`);
  }
});

t.test('readWavFile converts other rates, depths and channel counts to 16 kHz mono', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  const speech = await speak('the bearing is grinding and the belt is slipping', path.join(tmp.dir, 'speech.wav'));
  const reference = await readWavFile(await soxConvert(speech, path.join(tmp.dir, 'ref.wav'), ['-r', '16000', '-c', '1', '-b', '16']));
  const variants: Array<[string, string[], number]> = [
    ['espeak-ng 22050 Hz 16-bit', [], 0.98],
    ['44.1 kHz stereo 24-bit', ['-r', '44100', '-c', '2', '-b', '24'], 0.98],
    ['48 kHz 64-bit float', ['-r', '48000', '-e', 'floating-point', '-b', '64'], 0.98],
    ['32 kHz 3-channel 32-bit float (WAVE_FORMAT_EXTENSIBLE)', ['-r', '32000', '-c', '3', '-e', 'floating-point', '-b', '32'], 0.98],
    ['16 kHz 32-bit integer', ['-r', '16000', '-b', '32'], 0.99],
    ['16 kHz 8-bit unsigned', ['-r', '16000', '-b', '8'], 0.95],
    ['8 kHz 16-bit', ['-r', '8000', '-b', '16'], 0.9],
    ['8 kHz mu-law', ['-r', '8000', '-e', 'mu-law'], 0.9],
    ['8 kHz A-law', ['-r', '8000', '-e', 'a-law'], 0.9],
  ];
  for (const [name, args, minCorrelation] of variants) {
    const file = args.length ? await soxConvert(speech, path.join(tmp.dir, `v${variants.findIndex((v) => v[0] === name)}.wav`), args) : speech;
    const samples = await readWavFile(file);
    t.ok(Math.abs(samples.length - reference.length) <= 4, `${name}: ${samples.length} samples (reference ${reference.length})`);
    t.ok(samples.every((s) => s >= -1 && s <= 1), `${name}: samples in [-1, 1]`);
    const correlation = bestCorrelation(samples, reference);
    t.ok(correlation >= minCorrelation, `${name}: correlation with sox's 16 kHz conversion ${correlation.toFixed(3)} >= ${minCorrelation}`);
  }
});

t.test('channels are averaged: speech on the left, silence on the right halves the level', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  const speech = await speak('pump cavitation', path.join(tmp.dir, 'speech.wav'));
  const mono = await readWavFile(await soxConvert(speech, path.join(tmp.dir, 'mono.wav'), ['-r', '16000']));
  const leftOnly = await readWavFile(await soxConvert(speech, path.join(tmp.dir, 'left.wav'), ['-r', '16000', '-c', '2'], ['remix', '1', '0']));
  t.ok(Math.abs(rms(leftOnly) / rms(mono) - 0.5) < 0.01, `level ratio ${(rms(leftOnly) / rms(mono)).toFixed(3)} is 0.5`);
});

t.test('bad files are fatal AudioSourceErrors naming the file and what to do', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  const speech = await speak('motor overheating', path.join(tmp.dir, 'speech.wav'));
  const whole = await readFile(await soxConvert(speech, path.join(tmp.dir, 'stereo24.wav'), ['-r', '44100', '-c', '2', '-b', '24']));
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['a text file', async () => write('notes.wav', 'this is not audio\n'), /not a WAV file.*sox in\.wav -r 16000 -c 1 -b 16 out\.wav/],
    ['an empty file', async () => write('empty.wav', ''), /not a WAV file/],
    ['a FLAC file', () => soxConvert(speech, path.join(tmp.dir, 'speech.flac'), []), /not a WAV file/],
    ['a truncated WAV', async () => write('cut.wav', whole.subarray(0, 20000)), /truncated.*declares \d+ bytes but only \d+.*sox --ignore-length/],
    ['a header without data', async () => write('header.wav', whole.subarray(0, 36)), /not a readable WAV file.*sox/],
    ['Microsoft ADPCM', () => soxConvert(speech, path.join(tmp.dir, 'ms.wav'), ['-e', 'ms-adpcm']), /encoding 2 \(Microsoft ADPCM\) is not supported.*sox/],
    ['IMA ADPCM', () => soxConvert(speech, path.join(tmp.dir, 'ima.wav'), ['-e', 'ima-adpcm']), /IMA ADPCM.*not supported/],
    ['GSM', () => soxConvert(speech, path.join(tmp.dir, 'gsm.wav'), ['-r', '8000', '-e', 'gsm-full-rate']), /GSM 6\.10.*not supported/],
    ['a missing file', async () => path.join(tmp.dir, 'missing.wav'), /cannot read WAV file .*missing\.wav.*ENOENT/],
  ];
  async function write(name: string, content: string | Uint8Array): Promise<string> {
    const file = path.join(tmp.dir, name);
    await writeFile(file, content);
    return file;
  }
  for (const [what, make, message] of cases) {
    const file = await make();
    const failure = await readWavFile(file).then(() => undefined, (err: unknown) => err);
    t.ok(failure instanceof AudioSourceError && failure.fatal, `${what}: fatal AudioSourceError`);
    t.match((failure as Error).message, message, `${what}: says what is wrong`);
    t.ok((failure as Error).message.includes(file), `${what}: names the file`);
    await t.rejects(new FileSource({ path: file }).start(), AudioSourceError, `${what}: FileSource.start() rejects`);
  }
});

t.test('realtime pace delivers chunks of chunkMs and then ends', async (t) => {
  const source = new FileSource({ path: SHORT_WORD, pace: 'realtime', chunkMs: 50 });
  const chunks: AudioChunk[] = [];
  source.on('data', (c) => chunks.push(c));
  const ended = new Promise<void>((resolve) => source.once('end', resolve));
  await source.start();
  await ended;
  t.equal(chunks.length, Math.ceil(SHORT_WORD_SAMPLES / 800), '800-sample chunks');
  t.ok(chunks.slice(0, -1).every((c) => c.samples.length === 800), 'all but the last are full');
  t.equal(chunks.at(-1)!.offset + chunks.at(-1)!.samples.length, SHORT_WORD_SAMPLES);
});

t.test('a chunk size that is not a positive number is refused', async (t) => {
  t.throws(() => new FileSource({ path: SHORT_WORD, chunkMs: 0 }), /chunkMs must be a positive number/);
});
