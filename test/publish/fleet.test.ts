/**
 * Fleets (docs/fleets.md) with real parts: two devices, each publishing to its own mosquitto that
 * is bridged (deploy/fleet/mosquitto-bridge.conf) to one central mosquitto. The uplink goes down
 * mid-run; every detection still reaches the central broker afterwards, and two consumers
 * (deploy/fleet/consumer.mjs) sharing an MQTT 5 subscription see each detection, deduplicated by id.
 * A request sent from the central side reaches a device through its bridge and is answered.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { RequestRouter } from '../../src/publish/requests.js';
import { silentLogger } from '../../src/log.js';
import { startMosquitto, TcpProxy, type Mosquitto } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, publisherOptions, repoRoot, tempDir, waitFor } from './helpers.js';

const DEVICES = ['press-1', 'press-2'];
const BEFORE = 10;
const DURING = 15;
const AFTER = 5;

/** The shipped bridge block, pointed at `port` on loopback, without its TLS and credential lines. */
async function bridgeConfig(deviceId: string, port: number): Promise<string[]> {
  const text = await readFile(path.join(repoRoot, 'deploy/fleet/mosquitto-bridge.conf'), 'utf8');
  const [globals, bridge] = text.split('# --- bridge ---');
  const keep = (l: string): boolean => l.trim() !== '' && !l.startsWith('#') && !/^(bridge_cafile|remote_username|remote_password)\b/.test(l);
  const queue = globals!.split('\n').filter((l) => l.startsWith('max_queued_messages'));
  return [...queue, ...bridge!.split('\n').filter(keep)].map((l) => l
    .replace(/^address .*/, `address 127.0.0.1:${port}`).replace(/^restart_timeout .*/, 'restart_timeout 1')
    .replaceAll('DEVICE_ID', deviceId));
}

function startConsumer(t: Test, url: string): { lines: () => Array<{ id: string; deviceId: string; term: string }>; ready: Promise<void> } {
  const child = spawn(process.execPath, [path.join(repoRoot, 'deploy/fleet/consumer.mjs'), url, 'fleet-test'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const ready = new Promise<void>((resolve) => child.stderr.on('data', (c: Buffer) => { err += c.toString(); if (err.includes('subscribed')) resolve(); }));
  return { lines: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; deviceId: string; term: string }), ready };
}

t.test('local brokers bridged to a central one: every detection arrives across an uplink outage', async (t) => {
  const central = await startMosquitto();
  t.teardown(() => central.close());
  const uplink = await TcpProxy.create(central.port);
  t.teardown(() => uplink.shut());
  const locals: Mosquitto[] = [];
  for (const id of DEVICES) {
    const local = await startMosquitto({ extraConfig: await bridgeConfig(id, uplink.port) });
    t.teardown(() => local.close());
    locals.push(local);
  }
  const consumers = [startConsumer(t, central.url), startConsumer(t, central.url)];
  await Promise.all(consumers.map((c) => c.ready));
  const watcher = await Collector.connect(central.url, ['gearhear/+/status', 'gearhear/+/bridge/state']);
  t.teardown(() => watcher.close());

  const publishers = await Promise.all(DEVICES.map(async (id, i) => {
    const p = new MqttPublisher(publisherOptions(locals[i]!.url, await tempDir(t), { deviceId: id }));
    const router = new RequestRouter({ respond: (a, r) => p.respond(a, r), logger: silentLogger }).handle('ping', () => ({ device: id }));
    p.serveRequests(router);
    t.teardown(() => p.stop());
    await p.start();
    return p;
  }));
  const unique = (): Map<string, { deviceId: string; term: string }> => new Map(consumers.flatMap((c) => c.lines()).map((d) => [d.id, d]));
  const publish = async (from: number, count: number): Promise<void> => {
    for (let k = from; k < from + count; k++) for (const p of publishers) await p.publishDetection(detectionInput(k));
  };

  await waitFor('both bridges up', () => DEVICES.every((id) => watcher.on(`gearhear/${id}/status`).some((m) => m.payload === 'online')), 20_000);
  await publish(0, BEFORE);
  await waitFor('the first detections centrally', () => unique().size === BEFORE * DEVICES.length, 20_000);

  await uplink.shut(); // the uplink goes away; each device's own broker stays up
  await publish(BEFORE, DURING);
  for (const p of publishers) t.equal(await p.drain(5000), true, 'the local broker took every detection while the uplink was down');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(unique().size, BEFORE * DEVICES.length, 'nothing reached the central broker during the outage');

  await uplink.open();
  await publish(BEFORE + DURING, AFTER);
  const total = (BEFORE + DURING + AFTER) * DEVICES.length;
  await waitFor('every detection centrally', () => unique().size >= total, 60_000);
  const got = unique();
  t.equal(got.size, total, `${total} distinct detections arrived, none lost`);
  for (const id of DEVICES) {
    const terms = [...got.values()].filter((d) => d.deviceId === id).map((d) => d.term).sort();
    t.same(terms, Array.from({ length: BEFORE + DURING + AFTER }, (_, k) => `term${k}`).sort(), `${id}: every term, once`);
  }
  const perConsumer = consumers.map((c) => c.lines().length);
  t.ok(perConsumer.every((n) => n > 0), `the shared subscription spread the load (${perConsumer.join(' + ')})`);
  t.ok(perConsumer.reduce((a, b) => a + b, 0) >= total, 'between them the consumers saw all of it');

  // A request from the central side reaches the device through its bridge and is answered.
  const app = await mqtt.connectAsync(central.url, { protocolVersion: 5 });
  t.teardown(() => app.endAsync(true));
  const answers: string[] = [];
  app.on('message', (_topic, payload) => answers.push(payload.toString()));
  await app.subscribeAsync('gearhear/press-2/response/ping', { qos: 1 });
  await app.publishAsync('gearhear/press-2/request/ping', '{"transaction":"fleet"}', { qos: 1 });
  await waitFor('the device\'s answer', () => answers.length > 0, 20_000);
  t.same(JSON.parse(answers[0]!), { status: 'ok', data: { device: 'press-2' }, transaction: 'fleet' }, 'answered through the bridge');
});
