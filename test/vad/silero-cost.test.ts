/** The Silero cost measures: the If-less weights and the sileroSpeechStride option keep segmentation. */
import path from 'node:path';
import t from 'tap';
import { createGate, defaultSileroWeightsPath } from '../../src/vad/index.js';
import { concat, dataDir, eventProblems, mixAtSnr, readWav16k, runGate, SAMPLE_RATE, silence, synthesize, tempDir, type Segment } from './fixtures.js';

const FRAME_MS = 32;
const SENTENCES = [
  'speech/sentences/librivox-pocketsphinx/sense_and_sensibility_01-0870.wav',
  'speech/sentences/librivox-pocketsphinx/sense_and_sensibility_01-0880.wav',
  'speech/sentences/librivox-pocketsphinx/sense_and_sensibility_01-0890.wav',
];
const MACHINE_NOISE = 'noise/dcase2020t2-abnormal_listener/normal_id_00_00000000.wav';

/** Real read sentences with pauses between them, over machine noise at 10 dB SNR. */
function realSpeechInNoise(): Float32Array {
  const gap = silence(1.2);
  const speech = concat(...SENTENCES.flatMap((file) => [gap, readWav16k(path.join(dataDir, file))]), gap);
  const noise = readWav16k(path.join(dataDir, MACHINE_NOISE));
  return mixAtSnr(noise, speech, 0, speech.length, 10);
}

const ms = (samples: number): number => (samples / SAMPLE_RATE) * 1000;

t.test('the bundled If-less weights give the same segments as the 16 kHz op15 export', async (t) => {
  const op15 = path.join(path.dirname(defaultSileroWeightsPath()), 'silero_vad_16k_op15.onnx');
  const audio = realSpeechInNoise();
  const runs: Segment[][] = [];
  for (const weightsPath of [undefined, op15]) {
    const gate = await createGate({ engine: 'silero', weightsPath });
    const { events, segments } = await runGate(gate, audio, 1600);
    await gate.dispose();
    t.same(eventProblems(events, audio), [], `${weightsPath ?? 'default weights'}: well-formed events`);
    runs.push(segments);
  }
  const [ifless, reference] = runs as [Segment[], Segment[]];
  t.ok(reference.length >= SENTENCES.length, `op15 finds ${reference.length} segments`);
  t.same(
    ifless.map((s) => [s.start, s.end, s.reason]),
    reference.map((s) => [s.start, s.end, s.reason]),
    'same starts, ends and reasons',
  );
});

t.test('sileroSpeechStride 2 skips Silero frames in speech and keeps the segments', async (t) => {
  const dir = tempDir(t);
  const words = ['the pump bearing is overheating', 'check the gearbox oil level', 'the belt is slipping again'];
  const audio = concat(...words.flatMap((text, i) => [silence(1), synthesize(dir, `s${i}`, text)]), silence(1));
  const runs: Array<{ segments: Segment[]; modelFrames: number }> = [];
  for (const sileroSpeechStride of [1, 2]) {
    const gate = await createGate({ engine: 'silero', sileroSpeechStride });
    const { events, segments } = await runGate(gate, audio, 1600);
    const modelFrames = gate.stats().modelFrames!;
    await gate.dispose();
    t.same(eventProblems(events, audio), [], `stride ${sileroSpeechStride}: well-formed events`);
    runs.push({ segments, modelFrames });
  }
  const [every, strided] = runs as [(typeof runs)[0], (typeof runs)[0]];
  t.equal(every.segments.length, words.length, 'one segment per utterance with Silero on every frame');
  t.equal(strided.segments.length, every.segments.length, 'the same number of segments with stride 2');
  every.segments.forEach((s, i) => {
    const other = strided.segments[i]!;
    t.ok(Math.abs(other.start - s.start) <= (FRAME_MS * SAMPLE_RATE) / 1000, `segment ${i}: starts ${ms(other.start - s.start)} ms apart`);
    t.ok(Math.abs(other.end - s.end) <= (5 * FRAME_MS * SAMPLE_RATE) / 1000, `segment ${i}: ends ${ms(other.end - s.end)} ms apart`);
  });
  t.ok(strided.modelFrames <= 0.8 * every.modelFrames, `Silero ran on ${strided.modelFrames} frames instead of ${every.modelFrames}`);
});

t.test('sileroSpeechStride must be a whole number of frames from 1 to 8', async (t) => {
  for (const bad of [0, 1.5, 9, Number.NaN]) {
    await t.rejects(createGate({ engine: 'silero', sileroSpeechStride: bad }), /vad option sileroSpeechStride=.* is invalid: use a whole number of frames from 1/);
  }
});
