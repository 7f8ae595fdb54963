/** Shared test helpers for the publish tests (not a test file itself). */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

const runCmd = promisify(execFile);

/** A fresh tmpfs of `sizeKb` (a real small disk that fills up); unmounted and removed at teardown. Needs root. */
export async function smallTmpfs(t: { teardown(fn: () => unknown): void }, sizeKb = 64): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-tmpfs-'));
  await runCmd('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  t.teardown(async () => {
    // Bind mounts stacked on it (bindMount) go first; then the tmpfs itself.
    for (let i = 0; i < 3; i++) await runCmd('umount', ['-l', dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the filesystem holding `dir` with a filler file until ENOSPC; returns a function that frees it. */
export async function fillDisk(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, 'filler');
  const fh = await open(file, 'a');
  const page = Buffer.alloc(4096, 0x2e);
  try {
    for (;;) await fh.write(page);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await fh.close();
  }
  // A partial page may still fit; take it too.
  const rest = await open(file, 'a');
  try { for (let n = 2048; n >= 1; n >>= 1) await rest.write(Buffer.alloc(n)).catch(() => undefined); } finally { await rest.close(); }
  return () => rm(file, { force: true });
}

/**
 * A bind mount of `dir` over itself, so it can be made read-only and writable again (a real EROFS).
 * Open it before the outbox does: files opened earlier go through the old mount and are not affected.
 * readOnly() retries while the kernel says busy (a file open for writing blocks a read-only remount).
 */
export async function bindMount(t: { teardown(fn: () => unknown): void }, dir: string): Promise<{ readOnly(timeoutMs?: number): Promise<void>; writable(): Promise<void> }> {
  await runCmd('mount', ['--bind', dir, dir]);
  t.teardown(() => runCmd('umount', ['-l', dir]).catch(() => undefined));
  return {
    async readOnly(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          await runCmd('mount', ['-o', 'remount,ro,bind', dir]);
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`could not make ${dir} read-only: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
    async writable() {
      await runCmd('mount', ['-o', 'remount,rw,bind', dir]);
    },
  };
}
