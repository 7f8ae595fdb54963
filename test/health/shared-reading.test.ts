/**
 * Samples asked for at once share one system reading (issue 21, item 14): each reading of the
 * system figures spawns processes, and a flood of `request/health` spawned hundreds at once.
 */
import t from 'tap';
import { HealthMonitor, type SystemReader } from '../../src/health/index.js';

t.test('samples asked for while a system reading is under way share it; the next sample reads again', async (t) => {
  let readings = 0;
  let load = 0;
  const slow = <T>(value: () => T): (() => Promise<T>) => () => new Promise((resolve) => setTimeout(() => resolve(value()), 50));
  const system: SystemReader = {
    cpuTemperatureC: slow(() => { readings++; return 40; }),
    cpuLoadPct: slow(() => ++load),
    memory: slow(() => ({ totalBytes: 1000, availableBytes: 500 })),
    throttled: slow(() => null),
  };
  const monitor = new HealthMonitor({ intervalMs: 60_000, system });
  let pipelineReads = 0;
  monitor.registerProvider('pipeline', () => ({ reads: ++pipelineReads }));
  const samples = await Promise.all(Array.from({ length: 100 }, () => monitor.sample()));
  t.equal(readings, 1, '100 samples at once: one system reading');
  t.ok(samples.every((s) => s.system.cpuLoadPct === 1), 'all carry its figures');
  t.equal(pipelineReads, 100, 'each sample still reads the pipeline figures of its own time');
  const later = await monitor.sample();
  t.equal(readings, 2, 'a sample after it reads the system again');
  t.equal(later.system.cpuLoadPct, 2, 'with its own figures');
});
