import path from 'node:path';
import t from 'tap';
import { LEVEL_FLOOR_DBFS } from '../../src/audio/level.js';
import { EnergyDetector, frameLevelDb } from '../../src/vad/energy.js';
import { createGate, GATE_DEFAULTS } from '../../src/vad/index.js';
import { activeRange, concat, dataDir, eventProblems, mixAtSnr, readWav16k, runGate, SAMPLE_RATE, silence, synthesize, tempDir } from './fixtures.js';
import { gateSuite } from './gate-suite.js';

const FRAME = 512;
const MACHINE_NOISE = [
  'noise/dcase2020t2-abnormal_listener/normal_id_00_00000000.wav',
  'noise/tumult/machine05_furnace-pump.wav',
  'noise/tumult/machine07_oven-hum.wav',
  'noise/tumult/machine11_washing-machine.wav',
  'noise/spear/factoryR1_16.wav',
];

function newDetector(): EnergyDetector {
  return new EnergyDetector(
    {
      marginDb: GATE_DEFAULTS.energyMarginDb,
      minLevelDb: GATE_DEFAULTS.energyMinLevelDb,
      floorRiseSeconds: GATE_DEFAULTS.noiseFloorRiseSeconds,
      floorFallSeconds: GATE_DEFAULTS.noiseFloorFallSeconds,
    },
    FRAME / SAMPLE_RATE,
  );
}

/** Candidate flag per frame. */
function candidates(detector: EnergyDetector, audio: Float32Array): boolean[] {
  const flags: boolean[] = [];
  for (let at = 0; at + FRAME <= audio.length; at += FRAME) flags.push(detector.measure(audio.subarray(at, at + FRAME)).candidate);
  return flags;
}

t.test('frame level in dBFS', async (t) => {
  const sine = Float32Array.from({ length: FRAME }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / SAMPLE_RATE));
  t.ok(Math.abs(frameLevelDb(sine) + 3.01) < 0.05, `full-scale sine is -3 dBFS (${frameLevelDb(sine)})`);
  t.equal(frameLevelDb(new Float32Array(FRAME)), LEVEL_FLOOR_DBFS, 'digital silence is clamped to the one floor');
});

t.test('steady machine noise becomes the floor: no candidates', async (t) => {
  for (const file of MACHINE_NOISE) {
    const flags = candidates(newDetector(), readWav16k(path.join(dataDir, file)));
    const share = flags.filter(Boolean).length / flags.length;
    t.ok(share <= 0.01, `${file}: ${(share * 100).toFixed(1)}% of frames are candidates`);
  }
});

t.test('the floor rises to machine noise that starts after quiet', async (t) => {
  const noise = readWav16k(path.join(dataDir, MACHINE_NOISE[0]!));
  const audio = concat(silence(1), noise, noise);
  const flags = candidates(newDetector(), audio);
  const framesIn10s = Math.floor((10 * SAMPLE_RATE) / FRAME);
  t.ok(flags.slice(0, framesIn10s).some(Boolean), 'the machine starting stands out at first');
  t.equal(flags.slice(-framesIn10s).filter(Boolean).length, 0, 'after settling, no frame stands out');
});

t.test('energy gate finds speech in machine noise at 10 dB SNR', async (t) => {
  const speech = synthesize(tempDir(t), 'pump', 'the pump bearing is overheating');
  const noise = readWav16k(path.join(dataDir, MACHINE_NOISE[0]!));
  const at = 3 * SAMPLE_RATE;
  const audio = mixAtSnr(noise, speech, at, at + speech.length + 2 * SAMPLE_RATE, 10);
  const { first, last } = activeRange(speech);
  const gate = await createGate({ engine: 'energy' });
  const { events, segments } = await runGate(gate, audio, 1000);
  await gate.dispose();
  t.same(eventProblems(events, audio), []);
  t.equal(segments.length, 1);
  t.ok(segments[0]!.start <= at + first && segments[0]!.end >= at + (first + last) / 2, 'the segment holds the speech onset and middle');
});

t.test('bad energy options are refused with the option named', async (t) => {
  await t.rejects(createGate({ engine: 'energy', energyMarginDb: -3 }), /marginDb=-3/);
  await t.rejects(createGate({ engine: 'energy', releaseThreshold: 0.9 }), /releaseThreshold=0\.9/);
  await t.rejects(createGate({ engine: 'energy', maxSegmentMs: 100 }), /maxSegmentMs=100/);
});

t.test('shared gate suite', async (t) => gateSuite(t, 'energy'));
