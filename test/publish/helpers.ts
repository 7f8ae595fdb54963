/** Shared test helpers for the publish tests (not a test file itself). */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { DetectionMessageInput, PublisherOptions } from '../../src/publish/types.js';
import { silentLogger } from '../../src/log.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function tempDir(t: { teardown(fn: () => unknown): void }, prefix = 'gearhear-publish-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Ajv (draft 2020-12) with every schema in schemas/, keyed by file name. */
export async function loadSchemas(): Promise<(file: string, data: unknown) => string | null> {
  // ajv's CJS build puts the class on .default under NodeNext; handle both shapes.
  const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)) });
  const dir = path.join(repoRoot, 'schemas');
  for (const f of await readdir(dir)) ajv.addSchema(JSON.parse(await readFile(path.join(dir, f), 'utf8')) as object, f);
  return (file, data) => {
    const validate = ajv.getSchema(file);
    if (!validate) throw new Error(`no schema ${file}`);
    return validate(data) ? null : ajv.errorsText(validate.errors);
  };
}

export interface Received { topic: string; payload: string; retain: boolean }

/** A real mqtt.js subscriber that records everything it receives. */
export class Collector {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  }

  static async connect(url: string, topics: string[], extra: IClientOptions = {}): Promise<Collector> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, protocolVersion: 4, ...extra });
    const collector = new Collector(client);
    await client.subscribeAsync(topics.map((t) => t), { qos: 1 });
    return collector;
  }

  on(topic: string): Received[] { return this.messages.filter((m) => m.topic === topic); }

  /** Unique detections (first arrival of each id) in arrival order. */
  detections(topic: string): Array<Record<string, unknown>> {
    const seen = new Set<string>();
    const out: Array<Record<string, unknown>> = [];
    for (const m of this.on(topic)) {
      const d = JSON.parse(m.payload) as Record<string, unknown>;
      if (seen.has(d.id as string)) continue;
      seen.add(d.id as string);
      out.push(d);
    }
    return out;
  }

  async close(): Promise<void> { await this.client.endAsync(true); }
}

export function detectionInput(i: number, category = 'bearing'): DetectionMessageInput {
  return {
    term: `term${i}`,
    category,
    severity: 'high',
    confidence: 0.9,
    threshold: 0.6,
    start: i,
    end: i + 0.5,
    segmentId: `seg-${i}`,
    model: { id: 'phone-ctc', version: '1.0.0' },
    vocabularyVersion: 'abc123',
    levelDbfs: -23.5,
  };
}

export function publisherOptions(url: string, stateDir: string, extra: Partial<PublisherOptions> = {}): PublisherOptions {
  return {
    url,
    baseTopic: 'gearhear',
    deviceId: 'dev1',
    stateDir,
    outbox: { maxBytes: 1024 * 1024, maxAgeMs: 24 * 3600_000 },
    faultQuietMs: 60_000,
    reconnect: { minDelayMs: 200, maxDelayMs: 1000 },
    logger: silentLogger,
    ...extra,
  };
}
