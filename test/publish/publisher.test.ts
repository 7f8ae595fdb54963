import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, loadSchemas, publisherOptions, repoRoot, tempDir, waitFor } from './helpers.js';

const info = {
  version: '0.1.0',
  model: { id: 'phone-ctc', version: '1.0.0', sha256: 'a'.repeat(64) },
  vocabulary: { version: 'abc123', terms: [{ term: 'grinding', category: 'bearing', severity: 'high' as const }, { term: 'squeal', category: 'belt', severity: 'medium' as const }] },
  config: { mqtt: { url: 'mqtt://x', password: 'hunter2' }, audio: { device: 'default' } },
};

t.test('payloads follow the schemas; status, info, faults, health, error; HA discovery republished', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const validate = await loadSchemas();
  const sub = await Collector.connect(broker.url, ['gearhear/#', 'homeassistant/#']);
  t.teardown(() => sub.close());
  const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t), {
    siteId: 'plant-7', faultQuietMs: 300, homeAssistant: { enabled: true, healthSensors: [{ key: 'cpuPercent', name: 'CPU', unit: '%' }] },
  }));
  const errors: Error[] = [];
  publisher.on('error', (e) => errors.push(e));
  publisher.setInfo(info);
  await publisher.start();
  await waitFor('status online', () => sub.on('gearhear/dev1/status').some((m) => m.payload === 'online'));

  await publisher.publishDetection(detectionInput(1, 'bearing'));
  await publisher.publishDetection({ ...detectionInput(2, 'bearing'), levelDbfs: -Infinity });
  t.equal(await publisher.drain(10_000), true, 'outbox drained after PUBACKs');
  publisher.publishHealth({ cpuPercent: 12.5 });
  publisher.publishError('capture', new Error('arecord exited with code 1'));
  await waitFor('detections, health, error and fault OFF', () =>
    sub.on('gearhear/dev1/detection').length === 2 && sub.on('gearhear/dev1/health').length > 0 && sub.on('gearhear/dev1/error').length > 0
    && sub.on('gearhear/dev1/fault/bearing').map((m) => m.payload).join() === 'OFF,ON,OFF');

  const detections = sub.detections('gearhear/dev1/detection');
  for (const d of detections) t.equal(validate('detection.schema.json', d), null, 'detection matches its schema');
  t.same(detections.map((d) => d.seq), [1, 2]);
  t.equal(detections[0]!.event_type, 'bearing');
  t.equal(detections[0]!.siteId, 'plant-7');
  t.equal(detections[1]!.levelDbfs, -150, '-Infinity dBFS clamped to a JSON number');
  t.not(detections[0]!.id, detections[1]!.id);
  t.equal(validate('status.schema.json', sub.on('gearhear/dev1/status')[0]!.payload), null);
  const infoMsg = JSON.parse(sub.on('gearhear/dev1/info')[0]!.payload) as { config: { mqtt: { password: string } } };
  t.equal(validate('info.schema.json', infoMsg), null);
  t.equal(infoMsg.config.mqtt.password, '***', 'secrets masked in info');
  t.equal(validate('health.schema.json', JSON.parse(sub.on('gearhear/dev1/health')[0]!.payload)), null);
  t.equal(validate('error.schema.json', JSON.parse(sub.on('gearhear/dev1/error')[0]!.payload)), null);
  t.same(sub.on('gearhear/dev1/fault/bearing').map((m) => m.payload), ['OFF', 'ON', 'OFF'], 'fault reset on connect, ON when heard, OFF after the quiet time');
  for (const m of sub.on('gearhear/dev1/fault/belt')) t.equal(validate('fault.schema.json', m.payload), null);

  const discovery = sub.messages.filter((m) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config'));
  const topics = new Set(discovery.map((m) => m.topic));
  t.ok(topics.has('homeassistant/event/dev1/detection/config'));
  t.ok(topics.has('homeassistant/binary_sensor/dev1/fault_bearing/config'));
  t.ok(topics.has('homeassistant/binary_sensor/dev1/fault_belt/config'));
  t.ok(topics.has('homeassistant/sensor/dev1/health_cpuPercent/config'));
  for (const m of discovery) t.equal(validate('ha-discovery.schema.json', JSON.parse(m.payload)), null, m.topic);
  const event = JSON.parse(discovery.find((m) => m.topic.includes('/event/'))!.payload) as { event_types: string[]; availability_topic: string };
  t.same(event.event_types, ['bearing', 'belt']);
  t.equal(event.availability_topic, 'gearhear/dev1/status');

  const before = discovery.length;
  await sub.client.publishAsync('homeassistant/status', 'online');
  await waitFor('discovery republished', () => sub.messages.filter((m) => m.topic.endsWith('/config')).length >= before * 2);

  // Retained state as a late subscriber sees it.
  const late = await Collector.connect(broker.url, ['gearhear/dev1/status', 'gearhear/dev1/info', 'gearhear/dev1/fault/+']);
  t.teardown(() => late.close());
  await waitFor('retained state', () => late.messages.length >= 4);
  t.same(late.on('gearhear/dev1/status').map((m) => [m.payload, m.retain]), [['online', true]]);

  await publisher.stop();
  await waitFor('offline on clean stop', () => sub.on('gearhear/dev1/status').some((m) => m.payload === 'offline'));
  t.same(errors, [], 'no errors on a healthy broker');
});

t.test('Last Will: offline when the publisher process is killed', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const stateDir = await tempDir(t);
  const child = spawn(process.execPath, [...process.execArgv, path.join(repoRoot, 'test/fixtures/publish-child.ts'), JSON.stringify({ url: broker.url, stateDir, from: 0, count: 0, hold: true })], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor('child connected', () => out.includes('connected'), 30_000);
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/status']);
  t.teardown(() => sub.close());
  await waitFor('retained online', () => sub.on('gearhear/dev1/status').some((m) => m.payload === 'online'));
  child.kill('SIGKILL');
  await waitFor('offline from the Last Will', () => sub.on('gearhear/dev1/status').some((m) => m.payload === 'offline'));
  const late = await Collector.connect(broker.url, ['gearhear/dev1/status']);
  t.teardown(() => late.close());
  await waitFor('retained status', () => late.messages.length > 0);
  t.same(late.messages.map((m) => [m.payload, m.retain]), [['offline', true]], 'the Last Will is retained');
});
