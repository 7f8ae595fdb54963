import type { Logger } from '../log.js';
import type { Detection, Severity } from '../detection.js';

/** What the daemon hands to publishDetection: a KWS detection plus context. */
export interface DetectionMessageInput extends Detection {
  model: { id: string; version: string };
  vocabularyVersion: string;
  /** Level of the segment in dBFS (clamped to >= -150 so it stays a JSON number). */
  levelDbfs: number;
  /** When the term was heard; defaults to now. */
  timestamp?: Date;
  /** The detection's id; a fresh UUID when absent (the daemon sets it when it keeps evidence). */
  id?: string;
  /** Id of the evidence clip recorded for this detection (evidence.enabled). */
  clipId?: string;
}

/** The `detection` payload, exactly as published (see schemas/detection.schema.json). */
export interface DetectionMessage {
  id: string;
  seq: number;
  timestamp: string;
  deviceId: string;
  siteId?: string;
  term: string;
  category: string;
  severity: Severity;
  confidence: number;
  threshold: number;
  start: number;
  end: number;
  segmentId: string;
  model: { id: string; version: string };
  vocabularyVersion: string;
  levelDbfs: number;
  /** Home Assistant MQTT event entity type: the term's category. */
  event_type: string;
  /** Evidence clip of this detection, when evidence is on (`gearhear clips`, `request/clip`). */
  clipId?: string;
}

/** The retained `info` payload (see schemas/info.schema.json). */
export interface InfoInput {
  version: string;
  model: { id: string; version: string; sha256: string };
  /** The term heads, when model.detector is heads: which vocabulary terms they detect. */
  heads?: { id: string; version: string; sha256: string; terms: number; covered: number; compiled?: number };
  vocabulary: { version: string; terms: Array<{ term: string; category: string; severity: Severity }> };
  /** Effective configuration; values under secret-looking keys are masked again before publishing. */
  config: Record<string, unknown>;
  /** The site calibration in use, or the file looked for and why it is not used. */
  calibration?: Record<string, unknown>;
}

export interface ErrorMessage {
  where: string;
  message: string;
  timestamp: string;
  deviceId: string;
  /** The detection concerned, when the error is about one (e.g. its outbox write failed). */
  seq?: number;
  term?: string;
}

export interface TlsFileOptions {
  /** PEM file of the CA that signed the broker's certificate. */
  caFile?: string;
  /** PEM client certificate and key, for brokers that require client certificates. */
  certFile?: string;
  keyFile?: string;
  /** Verify the broker's certificate (default true). Turn off only for testing. */
  rejectUnauthorized?: boolean;
}

/** One diagnostic sensor in Home Assistant, read from the health payload. */
export interface HealthSensorSpec {
  /** Dotted path into the health payload, e.g. `outbox.depth`. */
  key: string;
  name: string;
  unit?: string;
  deviceClass?: string;
  stateClass?: 'measurement' | 'total_increasing';
}

export interface OutboxLimits {
  /** Drop the oldest detections once the unacknowledged ones exceed this many bytes. */
  maxBytes: number;
  /** Drop detections older than this that were never acknowledged. */
  maxAgeMs: number;
}

export interface PublisherOptions {
  /** `mqtt://host:port`, `mqtts://host:port`, `ws(s)://...`, or `embedded` (in-process aedes broker). */
  url: string;
  /** Port for the embedded broker on 127.0.0.1 (0 = any free port). */
  embeddedPort?: number;
  /** Topic prefix; topics are `<baseTopic>/<deviceId>/...`. */
  baseTopic: string;
  deviceId: string;
  siteId?: string;
  clientId?: string;
  username?: string;
  password?: string;
  tls?: TlsFileOptions;
  /** Directory for the durable outbox and the persisted sequence number. */
  stateDir: string;
  outbox: OutboxLimits;
  /** Outbox internals tests shorten (memory bound, disk retry, watermark delay); defaults otherwise. */
  outboxTuning?: { memoryMaxRecords?: number; retryMs?: number; ackFlushMs?: number };
  /** Detections published but not yet acknowledged at once (order is kept: replays start from the oldest). */
  inflightWindow?: number;
  /** `fault/<category>` goes back to OFF after this long without a detection of that category. */
  faultQuietMs: number;
  /** Categories to announce (and reset to OFF) even before one is heard; info's vocabulary adds more. */
  faultCategories?: string[];
  homeAssistant?: { enabled: boolean; discoveryPrefix?: string; deviceName?: string; healthSensors?: HealthSensorSpec[] };
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Connect with clean=false under the (fixed) client id: the broker keeps the request subscription and queues QoS 1 requests while the device is away. */
  persistentSession?: boolean;
  keepaliveSec?: number;
  connectTimeoutMs?: number;
  logger: Logger;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  /** Of `depth`, detections the disk refused: held only in memory (bounded), retried, and sent if the broker is up. */
  inMemory: number;
  /** Every detection lost to a bound: droppedBySize + droppedByAge + droppedFromMemory. */
  dropped: number;
  droppedBySize: number;
  droppedByAge: number;
  /** Detections dropped because more than the memory bound were waiting for a disk that refused them. */
  droppedFromMemory: number;
  /** Writes of the outbox log that failed (a full or read-only disk, an I/O error). */
  writeFailures: number;
  tornRecords: number;
  oldestSeq: number | null;
  nextSeq: number;
}

export interface PublisherStats {
  connected: boolean;
  connectAttempts: number;
  connects: number;
  refusals: number;
  inflight: number;
  published: number;
  acked: number;
  errorsDropped: number;
  outbox: OutboxStats;
}

/** A fault in the publisher, named by where it happened (`connect`, `tls`, `outbox`, `publish`, ...). */
export class PublishError extends Error {
  constructor(message: string, readonly where: string, readonly code?: number | string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
  }
}

export interface PublisherEvents {
  connected: [];
  disconnected: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number }];
  error: [PublishError];
}
