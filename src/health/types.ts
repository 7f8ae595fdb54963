import type { ThrottleState } from './throttle.js';

export type { ThrottleState } from './throttle.js';

/** Figures a pipeline stage reports, e.g. `{ levelDbfs: -42.1 }` from audio. Plain JSON values only. */
export type ProviderFigures = Record<string, number | string | null>;

/** A function the daemon registers per stage; called once per sample, must be cheap and synchronous. */
export type HealthProvider = () => ProviderFigures;

export interface SystemFigures {
  /** Null where the machine exposes no temperature sensor. */
  cpuTempC: number | null;
  /** Raspberry Pi firmware flags; null elsewhere. */
  throttled: ThrottleState | null;
  load1: number;
  load5: number;
  load15: number;
  /** CPU busy percentage since the previous sample; null if it could not be read. */
  cpuLoadPct: number | null;
  memTotalMb: number | null;
  memAvailableMb: number | null;
  memUsedPct: number | null;
}

export interface ProcessFigures {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

/** One health sample: plain JSON, published on the `health` topic (the publisher adds its own fields). */
export interface HealthSample {
  timestamp: string;
  system: SystemFigures;
  process: ProcessFigures;
  /** Figures from registered providers, by provider name (e.g. `pipeline.audio.levelDbfs`). */
  pipeline: Record<string, ProviderFigures>;
}
