/**
 * HealthMonitor: every interval gathers system figures (systeminformation, Pi throttling), the
 * process's memory, and the pipeline figures of registered providers into one plain-JSON sample.
 * Nothing here throws into the daemon: a figure that cannot be read is null.
 */
import { EventEmitter } from 'node:events';
import { loadavg } from 'node:os';
import si from 'systeminformation';
import { roundFigure } from '../figures.js';
import { silentLogger, type Logger } from '../log.js';
import { createThrottleReader } from './throttle.js';
import type { HealthProvider, HealthSample, ProcessFigures, ProviderFigures, SystemFigures, ThrottleState } from './types.js';

const MB = 1024 * 1024;

/** The system readings, swappable so the monitor runs where systeminformation has nothing to say. */
export interface SystemReader {
  cpuTemperatureC(): Promise<number | null>;
  cpuLoadPct(): Promise<number | null>;
  memory(): Promise<{ totalBytes: number; availableBytes: number } | null>;
  throttled(): Promise<ThrottleState | null>;
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const finiteOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Readings from systeminformation and the Pi firmware; every failure becomes null. */
export function defaultSystemReader(): SystemReader {
  return {
    // systeminformation reports -1 (or null) when no sensor is found.
    cpuTemperatureC: async () => si.cpuTemperature().then((t) => (t.main === -1 ? null : finiteOrNull(t.main)), () => null),
    cpuLoadPct: async () => si.currentLoad().then((l) => finiteOrNull(l.currentLoad), () => null),
    memory: async () => si.mem().then((m) => ({ totalBytes: m.total, availableBytes: m.available }), () => null),
    throttled: createThrottleReader(),
  };
}

export interface HealthMonitorOptions {
  /** Time between samples (health.intervalS * 1000). */
  intervalMs: number;
  system?: SystemReader;
  logger?: Logger;
}

export interface HealthMonitorEvents {
  sample: [HealthSample];
}

export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  private readonly providers = new Map<string, HealthProvider>();
  private readonly system: SystemReader;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<HealthSample> | null = null;
  /** The system reading under way: samples asked for meanwhile share it (a reading spawns processes). */
  private systemReading: Promise<SystemFigures> | null = null;

  constructor(private readonly options: HealthMonitorOptions) {
    super();
    if (!(options.intervalMs > 0)) throw new RangeError(`health interval must be above 0 ms, got ${options.intervalMs}`);
    this.system = options.system ?? defaultSystemReader();
    this.logger = options.logger ?? silentLogger;
  }

  /** Adds a stage's figures under `pipeline.<name>`; returns a function that removes them. */
  registerProvider(name: string, provider: HealthProvider): () => void {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw new Error(`health provider name "${name}" must be a word (letters, digits, _ or -)`);
    if (this.providers.has(name)) throw new Error(`health provider "${name}" is already registered`);
    this.providers.set(name, provider);
    return () => {
      if (this.providers.get(name) === provider) this.providers.delete(name);
    };
  }

  /** Takes the first sample now, then one every interval; each is emitted as 'sample'. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
    await this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => undefined);
  }

  /** Stops the interval and emits one last sample, after any sample still being gathered. */
  async final(): Promise<void> {
    await this.stop();
    await this.tick();
  }

  private async tick(): Promise<void> {
    if (this.inFlight) return; // the previous sample is still being gathered
    try {
      this.inFlight = this.sample();
      const sample = await this.inFlight;
      this.emit('sample', sample);
    } catch (err) {
      this.logger.error('health sample failed', { error: (err as Error).message });
    } finally {
      this.inFlight = null;
    }
  }

  /**
   * Gathers one sample (without emitting it). The system figures take a while (CPU load is
   * measured over an interval); the pipeline's are read once they are in, at the sample's time.
   */
  async sample(): Promise<HealthSample> {
    const system = await this.systemFigures();
    return { timestamp: new Date().toISOString(), system, process: processFigures(), pipeline: this.pipelineFigures() };
  }

  private systemFigures(): Promise<SystemFigures> {
    this.systemReading ??= this.readSystem().finally(() => { this.systemReading = null; });
    return this.systemReading;
  }

  private async readSystem(): Promise<SystemFigures> {
    const [cpuTempC, throttled, cpuLoadPct, memory] = await Promise.all([
      this.system.cpuTemperatureC().catch(() => null),
      this.system.throttled().catch(() => null),
      this.system.cpuLoadPct().catch(() => null),
      this.system.memory().catch(() => null),
    ]);
    const [load1, load5, load15] = loadavg().map((x) => round(x, 2)) as [number, number, number];
    return {
      cpuTempC: cpuTempC === null ? null : round(cpuTempC),
      throttled,
      load1,
      load5,
      load15,
      cpuLoadPct: cpuLoadPct === null ? null : round(cpuLoadPct),
      memTotalMb: memory ? round(memory.totalBytes / MB) : null,
      memAvailableMb: memory ? round(memory.availableBytes / MB) : null,
      memUsedPct: memory && memory.totalBytes > 0 ? round((100 * (memory.totalBytes - memory.availableBytes)) / memory.totalBytes) : null,
    };
  }

  /** Calls every provider; one that throws reports `{ error }` instead of breaking the sample. */
  private pipelineFigures(): Record<string, ProviderFigures> {
    const out: Record<string, ProviderFigures> = {};
    for (const [name, provider] of this.providers) {
      try {
        out[name] = jsonSafe(provider());
      } catch (err) {
        this.logger.warn('health provider failed', { provider: name, error: (err as Error).message });
        out[name] = { error: (err as Error).message };
      }
    }
    return out;
  }
}

/** NaN and infinities are not JSON: they become null. Other numbers are rounded to readable figures (src/figures.ts). */
function jsonSafe(figures: ProviderFigures): ProviderFigures {
  const out: ProviderFigures = {};
  for (const [k, v] of Object.entries(figures)) out[k] = typeof v !== 'number' ? v : Number.isFinite(v) ? roundFigure(v) : null;
  return out;
}

export function processFigures(): ProcessFigures {
  const m = process.memoryUsage();
  return {
    rssMb: round(m.rss / MB),
    heapUsedMb: round(m.heapUsed / MB),
    heapTotalMb: round(m.heapTotal / MB),
    externalMb: round(m.external / MB),
    arrayBuffersMb: round(m.arrayBuffers / MB),
  };
}
