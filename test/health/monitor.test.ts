import t from 'tap';
import { HealthMonitor, type HealthSample, type SystemReader } from '../../src/health/index.js';

t.test('a sample from the real machine is plain JSON with system and process figures', async (t) => {
  const monitor = new HealthMonitor({ intervalMs: 60_000 });
  const sample = await monitor.sample();
  t.same(JSON.parse(JSON.stringify(sample)), sample, 'survives a JSON round trip unchanged');
  t.ok(Date.parse(sample.timestamp) > 0);
  t.ok(sample.process.rssMb > 0);
  t.ok(sample.process.heapUsedMb > 0 && sample.process.heapUsedMb <= sample.process.heapTotalMb);
  t.ok(sample.system.memTotalMb! > 0, 'memory from systeminformation');
  t.ok(sample.system.memUsedPct! >= 0 && sample.system.memUsedPct! <= 100);
  t.ok(sample.system.load1 >= 0);
  t.ok(sample.system.cpuTempC === null || typeof sample.system.cpuTempC === 'number', 'temperature is a number or null');
  t.ok(sample.system.throttled === null || typeof sample.system.throttled.raw === 'string');
  t.same(sample.pipeline, {});
});

t.test('providers add pipeline figures; a failing one reports its error, NaN becomes null', async (t) => {
  const monitor = new HealthMonitor({ intervalMs: 60_000 });
  let detections = 0;
  const removeAudio = monitor.registerProvider('audio', () => ({ levelDbfs: -42.5, source: 'mic' }));
  monitor.registerProvider('kws', () => ({ detections: ++detections, inferenceP95Ms: Number.NaN }));
  monitor.registerProvider('vad', () => {
    throw new Error('gate not started');
  });
  t.throws(() => monitor.registerProvider('audio', () => ({})), /already registered/);
  t.throws(() => monitor.registerProvider('a.b', () => ({})), /must be a word/);
  const s = await monitor.sample();
  t.same(s.pipeline.audio, { levelDbfs: -42.5, source: 'mic' });
  t.same(s.pipeline.kws, { detections: 1, inferenceP95Ms: null });
  t.same(s.pipeline.vad, { error: 'gate not started' });
  removeAudio();
  t.notOk('audio' in (await monitor.sample()).pipeline, 'removed provider is gone');
});

t.test('system readings that fail become null, not errors', async (t) => {
  const broken: SystemReader = {
    cpuTemperatureC: () => Promise.reject(new Error('no sensor')),
    cpuLoadPct: () => Promise.reject(new Error('no /proc/stat')),
    memory: () => Promise.reject(new Error('no meminfo')),
    throttled: () => Promise.reject(new Error('no firmware')),
  };
  const s = await new HealthMonitor({ intervalMs: 60_000, system: broken }).sample();
  t.match(s.system, { cpuTempC: null, throttled: null, cpuLoadPct: null, memTotalMb: null, memAvailableMb: null, memUsedPct: null });
  t.ok(s.process.rssMb > 0);
});

t.test('start emits a sample at once and on every interval; stop ends it', async (t) => {
  const quiet: SystemReader = { cpuTemperatureC: async () => 48.25, cpuLoadPct: async () => 12.34, memory: async () => ({ totalBytes: 4 * 2 ** 30, availableBytes: 3 * 2 ** 30 }), throttled: async () => null };
  const monitor = new HealthMonitor({ intervalMs: 20, system: quiet });
  const samples: HealthSample[] = [];
  monitor.on('sample', (s) => samples.push(s));
  await monitor.start();
  t.equal(samples.length, 1, 'first sample emitted by start()');
  t.match(samples[0]!.system, { cpuTempC: 48.3, cpuLoadPct: 12.3, memTotalMb: 4096, memAvailableMb: 3072, memUsedPct: 25 });
  // The monitor's timer is unref'd (it never keeps the process alive), so wait with a timer of our own.
  for (let i = 0; i < 500 && samples.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await monitor.stop();
  const count = samples.length;
  t.ok(count >= 2);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(samples.length, count, 'no samples after stop');
  t.throws(() => new HealthMonitor({ intervalMs: 0 }), RangeError);
});

t.test("a sample's pipeline figures are read when its system figures are in; final() emits one last sample after it", async (t) => {
  let releaseLoad!: () => void;
  const slowLoad = new Promise<number>((resolve) => { releaseLoad = () => resolve(50); });
  const slow: SystemReader = { cpuTemperatureC: async () => null, cpuLoadPct: () => slowLoad, memory: async () => null, throttled: async () => null };
  const monitor = new HealthMonitor({ intervalMs: 60_000, system: slow });
  let detections = 0;
  monitor.registerProvider('detections', () => ({ total: detections }));
  const totals: unknown[] = [];
  monitor.on('sample', (s) => totals.push(s.pipeline.detections!.total));
  const started = monitor.start(); // the first sample waits for the CPU load
  detections = 3; // heard while the first sample was being gathered
  const ended = monitor.final();
  detections = 4;
  releaseLoad();
  await Promise.all([started, ended]);
  t.same(totals, [4, 4], 'the first sample counts what was heard by its time; the last one comes after it');
});
