import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createGate, defaultSileroWeightsPath } from '../../src/vad/index.js';
import { activeRange, concat, dataDir, eventProblems, mixAtSnr, readWav16k, runGate, SAMPLE_RATE, silence, synthesize, tempDir } from './fixtures.js';
import { gateSuite } from './gate-suite.js';

const MACHINE_NOISE = [
  'noise/dcase2020t2-abnormal_listener/normal_id_00_00000000.wav',
  'noise/dcase2020t2-abnormal_listener/anomaly_id_00_00000000.wav',
  'noise/tumult/machine02_dough-machine.wav',
  'noise/tumult/machine05_furnace-pump.wav',
  'noise/tumult/machine06_letter-sorter.wav',
  'noise/tumult/machine10_vending-machine.wav',
  'noise/tumult/machine11_washing-machine.wav',
  'noise/tumult/hum3_electrical-hum.wav',
  'noise/spear/factoryR1_16.wav',
];

t.test('the bundled weights are Silero v5 (the If-less export)', async (t) => {
  t.match(defaultSileroWeightsPath(), /node_modules[\\/]@jjhbw[\\/]silero-vad[\\/]weights[\\/]silero_vad_op18_ifless\.onnx$/);
});

t.test('machine noise: no segments, and Silero runs on few frames', async (t) => {
  const gate = await createGate({ engine: 'silero' });
  let frames = 0;
  let modelFrames = 0;
  let offset = 0;
  for (const file of MACHINE_NOISE) {
    const noise = readWav16k(path.join(dataDir, file));
    const before = gate.stats();
    // Separate recordings: leave a gap in the offsets so the gate starts afresh, as after a recorder restart.
    offset += SAMPLE_RATE;
    let starts = 0;
    for (let at = 0; at < noise.length; at += 1000) {
      const events = await gate.push({ samples: noise.slice(at, at + 1000), offset: offset + at });
      starts += events.filter((e) => e.type === 'start').length;
    }
    offset += noise.length;
    t.equal(starts, 0, `${file}: no segments`);
    const after = gate.stats();
    t.comment(`${file}: model on ${after.modelFrames! - before.modelFrames!} of ${after.frames! - before.frames!} frames`);
    frames += after.frames! - before.frames!;
    modelFrames += after.modelFrames! - before.modelFrames!;
  }
  t.equal(gate.stats().segments, 0);
  t.ok(modelFrames / frames <= 0.05, `Silero ran on ${modelFrames} of ${frames} frames`);
  await gate.dispose();
});

t.test('speech in machine noise at 10 dB SNR is found', async (t) => {
  const speech = synthesize(tempDir(t), 'pump', 'the pump bearing is overheating');
  const { first, last } = activeRange(speech);
  for (const file of [MACHINE_NOISE[0]!, 'noise/tumult/machine11_washing-machine.wav']) {
    const noise = readWav16k(path.join(dataDir, file));
    const at = 3 * SAMPLE_RATE;
    const audio = mixAtSnr(noise, speech, at, at + speech.length + 2 * SAMPLE_RATE, 10);
    const gate = await createGate({ engine: 'silero' });
    const { events, segments } = await runGate(gate, audio, 1000);
    await gate.dispose();
    t.same(eventProblems(events, audio), [], file);
    t.equal(segments.length, 1, `${file}: one segment`);
    t.ok(segments[0] && segments[0].start <= at + first && segments[0].end >= at + last, `${file}: the segment covers the speech`);
  }
});

t.test('speech longer than the maximum is split and continues', async (t) => {
  const speech = synthesize(
    tempDir(t),
    'long',
    'the pump bearing is overheating and the gearbox oil level is low so check the coupling alignment before the next shift',
  );
  const audio = concat(silence(1), speech, silence(1));
  const gate = await createGate({ engine: 'silero', maxSegmentMs: 2000 });
  const { events, segments } = await runGate(gate, audio, 1000);
  await gate.dispose();
  t.same(eventProblems(events, audio), []);
  t.ok(segments.length >= 3, `${segments.length} segments`);
  t.equal(segments[0]?.reason, 'max-length');
  for (const s of segments) t.ok(s.end - s.start <= 2 * SAMPLE_RATE, `${s.id} is at most 2 s`);
  const split = segments.findIndex((s) => s.reason === 'max-length');
  t.equal(segments[split + 1]?.start, segments[split]?.end, 'the next segment carries on where the split was');
});

t.test('missing or broken weights give an error naming the file and the fix', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'nothing-here.onnx');
  await t.rejects(createGate({ engine: 'silero', weightsPath: missing }), {
    message: new RegExp(`not found at ${missing.replace(/[.\\]/g, '\\$&')}.*npm ci`),
  });
  const broken = path.join(dir, 'broken.onnx');
  writeFileSync(broken, 'this is not an onnx model');
  await t.rejects(createGate({ engine: 'silero', weightsPath: broken }), {
    message: new RegExp(`${broken.replace(/[.\\]/g, '\\$&')} could not be loaded.*npm ci`),
  });
  await t.rejects(createGate({ engine: 'silero', intraOpThreads: 0 }), /intraOpThreads=0/);
});

t.test('shared gate suite', async (t) => gateSuite(t, 'silero'));
