import type { LogLevel } from '../log.js';

/**
 * The daemon's whole configuration, validated. Paths are absolute; durations are numbers in the unit
 * their name ends with (Ms, S, H). Modules get a slice of this as plain options, never the whole.
 */
export interface GearhearConfig {
  device: {
    /** Topic level identifying this device; default BALENA_DEVICE_UUID, else the hostname. */
    id: string;
    siteId: string;
  };
  audio: {
    /** `mic`, `mic:<alsa device>`, `file:<path>` or `stdin`. */
    source: string;
    /** ALSA device used by a plain `mic` source. */
    device: string;
    pace: 'realtime' | 'fast';
    watchdogMs: number;
    restartMaxDelayMs: number;
  };
  vad: {
    engine: 'silero' | 'energy';
    threshold: number;
    preRollMs: number;
    hangoverMs: number;
    minSegmentMs: number;
    maxSegmentMs: number;
    energyMarginDb: number;
    minLevelDbfs: number;
    sileroSpeechStride: number;
  };
  model: {
    dir: string;
    variant: 'int8' | 'fp32';
    intraOpThreads: number;
    streaming: 'auto' | 'cache' | 'recompute';
    chunkMs: number;
    detector: 'heads' | 'phones';
    headsDir: string;
    embedding: 'google' | 'student' | 'student-int8';
    headsThreshold: number;
    headsPatience: number;
    phones: 'kws' | 'embedding' | 'both';
    embeddingPhonesDir: string;
  };
  vocab: { file: string };
  kws: {
    threshold: number;
    boost: number;
    refractoryMs: number;
  };
  calibration: {
    /** '' when unset: `<vocabulary>.calibration.json` beside the vocabulary. */
    file: string;
    history: boolean;
  };
  mqtt: {
    /** `embedded` or an mqtt:// mqtts:// ws:// wss:// URL. */
    url: string;
    embeddedPort: number;
    baseTopic: string;
    clientId: string;
    username: string;
    /** From mqtt.password, GEARHEAR_MQTT_PASSWORD or the file named by mqtt.passwordFile; '' when none. */
    password: string;
    passwordFile: string;
    /** PEM file paths ('' when unset). */
    ca: string;
    cert: string;
    key: string;
    rejectUnauthorized: boolean;
    keepaliveS: number;
    /** clean=false under the fixed client id: requests sent while away are queued by the broker. */
    persistentSession: boolean;
    homeAssistant: { enabled: boolean; prefix: string };
    faultOffAfterS: number;
    faultCategories: string[];
    drainTimeoutMs: number;
  };
  state: { dir: string };
  outbox: { maxBytes: number; maxAgeH: number };
  enrolment: { maxTakesPerTerm: number; maxAgeH: number; minTakes: number; targetFaPerHour: number };
  evidence: { enabled: boolean; preRollMs: number; postRollMs: number; maxClips: number; maxBytes: number; maxAgeH: number; maxResponseBytes: number };
  health: { intervalS: number; memoryBudgetMb: number };
  log: { level: LogLevel };
}

/** Where a value came from, as named in errors. */
export type ConfigSource = 'default' | `file ${string}` | `env ${string}` | 'cli';
