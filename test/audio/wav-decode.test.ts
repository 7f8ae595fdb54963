import t from 'tap';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { decodeWav, readWavFile } from '../../src/audio/wav-decode.js';
import { resampleInSlices, resampleTo16k } from '../../src/audio/resample.js';
import { makeTempDir, sharedData, soxConvert } from '../fixtures/audio-helpers.js';

const SENTENCE = path.join(sharedData, 'speech/sentences/librivox-pocketsphinx/sense_and_sensibility_01-0880.wav');

/** Bit-for-bit equality of two float arrays (NaN-safe, -0 distinct from 0). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** The generic route the fast path replaces: wavefile's getSamples, / 32768, channel average. */
function viaWavefile(bytes: Uint8Array): Float32Array {
  const wav = new wavefile.WaveFile(bytes);
  const channels = (wav.fmt as { numChannels: number }).numChannels;
  const ints = wav.getSamples(true, Float64Array) as unknown as Float64Array;
  const mono = new Float32Array(Math.floor(ints.length / channels));
  for (let f = 0; f < mono.length; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += Math.fround(ints[f * channels + c]! / 32768);
    mono[f] = sum / channels;
  }
  return mono;
}

/** wavefile's own resampler, as wav-decode used it before resample.ts existed. */
function wavefileResample(mono: Float32Array, fromRate: number): Float32Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, fromRate, '32f', mono);
  wav.toSampleRate(16000);
  return wav.getSamples(false, Float32Array) as unknown as Float32Array;
}

t.test('16-bit PCM at 16 kHz is read directly and equals the generic decode, for 1, 2 and 3 channels', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  for (const channels of ['1', '2', '3']) {
    const bytes = await readFile(await soxConvert(SENTENCE, path.join(tmp.dir, `c${channels}.wav`), ['-c', channels], ['remix', ...(channels === '1' ? ['1'] : ['1', '1v0.3', '1v-0.5'].slice(0, Number(channels)))]));
    const decoded = decodeWav(bytes, `c${channels}.wav`);
    t.ok(decoded.length > 40000, `${channels} channel(s): ${decoded.length} samples`);
    t.ok(sameBits(decoded, viaWavefile(bytes)), `${channels} channel(s): same bits as wavefile getSamples + average`);
    // The same bytes starting at an odd offset in their buffer (no aligned Int16Array view possible).
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    t.ok(sameBits(decodeWav(shifted, 'shifted.wav'), decoded), `${channels} channel(s): same result from an odd byte offset`);
  }
});

t.test('a partial last frame in a 16-bit stereo file is dropped, whole frames kept', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  const bytes = await readFile(await soxConvert(SENTENCE, path.join(tmp.dir, 'stereo.wav'), ['-c', '2']));
  const whole = decodeWav(bytes, 'stereo.wav');
  // Append 3 bytes (a frame and a half short of two more frames) and declare them in the data and RIFF sizes.
  const dataAt = bytes.indexOf('data');
  const grown = new Uint8Array(bytes.length + 3);
  grown.set(bytes);
  grown.set([0x10, 0x20, 0x30], bytes.length);
  const view = new DataView(grown.buffer);
  view.setUint32(4, view.getUint32(4, true) + 3, true);
  view.setUint32(dataAt + 4, view.getUint32(dataAt + 4, true) + 3, true);
  const decoded = decodeWav(grown, 'grown.wav');
  t.equal(decoded.length, whole.length, 'the 3 extra bytes (less than a 4-byte frame) add no sample');
  t.ok(sameBits(decoded, whole), 'the whole frames are unchanged');
});

t.test('resampling gives exactly what wavefile toSampleRate gave, down and up', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  for (const rate of ['44100', '22050', '8000']) {
    const bytes = await readFile(await soxConvert(SENTENCE, path.join(tmp.dir, `r${rate}.wav`), ['-r', rate], ['trim', '0', '1.5']));
    const wav = new wavefile.WaveFile(bytes);
    const mono = Float32Array.from(wav.getSamples(false, Float64Array) as unknown as Float64Array, (v) => v / 32768);
    const expected = wavefileResample(mono, Number(rate));
    t.ok(sameBits(resampleTo16k(mono, Number(rate)), expected), `${rate} Hz: resampleTo16k matches wavefile (${expected.length} samples)`);
    t.ok(sameBits(await resampleInSlices(mono, Number(rate), 1000), expected), `${rate} Hz: resampleInSlices (1000-sample slices) matches too`);
  }
});

t.test('readWavFile lets timers run while a long 44.1 kHz file is resampled, with the same result as decodeWav', async (t) => {
  const tmp = await makeTempDir();
  t.teardown(tmp.remove);
  const file = await soxConvert(SENTENCE, path.join(tmp.dir, 'long44k.wav'), ['-r', '44100'], ['repeat', '20']); // ~63 s
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let samples: Float32Array;
  try {
    samples = await readWavFile(file);
  } finally {
    clearInterval(timer);
  }
  t.ok(samples.length > 60 * 16000, `${(samples.length / 16000).toFixed(1)} s decoded`);
  t.ok(ticks > 0, `a 1 ms interval fired ${ticks} times during the decode`);
  t.ok(sameBits(samples, decodeWav(await readFile(file), file)), 'sliced and one-go resampling agree bit for bit');
});

t.test('resampling refuses a sample rate that is not a positive number', async (t) => {
  t.throws(() => resampleTo16k(new Float32Array(10), 0), /invalid sample rate 0/);
  await t.rejects(resampleInSlices(new Float32Array(10), Number.NaN), /invalid sample rate NaN/);
});
