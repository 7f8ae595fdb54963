/**
 * The publisher with its state directory on a real 64 KiB tmpfs that fills up, and a real
 * mosquitto reached through a proxy that can play a broker outage. A detection the disk refuses
 * is held, reported with its seq and term, counted, and delivered; stopping never throws.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, fillDisk, loadSchemas, publisherOptions, smallTmpfs, tempDir, waitFor } from './helpers.js';

const DETECTION = 'gearhear/dev1/detection';
const ERROR = 'gearhear/dev1/error';
const HEALTH = 'gearhear/dev1/health';
const STATUS = 'gearhear/dev1/status';

const broker = await startMosquitto();
t.teardown(() => broker.close());

t.test('disk full and broker down: every detection is kept, reported with seq and term, and delivered when the broker is back', async (t) => {
  const validate = await loadSchemas();
  const proxy = await TcpProxy.create(broker.port);
  await proxy.shut();
  t.teardown(() => proxy.shut());
  const sub = await Collector.connect(broker.url, [DETECTION, ERROR, HEALTH]);
  t.teardown(() => sub.close());
  const stateDir = await smallTmpfs(t);
  const publisher = new MqttPublisher(publisherOptions(`mqtt://127.0.0.1:${proxy.port}`, stateDir, { outboxTuning: { retryMs: 100 } }));
  publisher.on('error', () => undefined);
  await publisher.start();

  for (let i = 0; i < 3; i++) await publisher.publishDetection(detectionInput(i));
  const free = await fillDisk(stateDir);
  const total = 31;
  // One at a time, as the daemon hears them: each is its own write to the full disk.
  for (let i = 3; i < total; i++) await publisher.publishDetection(detectionInput(i));
  const held = publisher.stats().outbox;
  t.equal(held.depth, total, 'all 31 wait in the outbox');
  t.ok(held.inMemory >= 20, `most of them only in memory (${held.inMemory})`);
  t.ok(held.writeFailures > 0, `write failures counted (${held.writeFailures})`);
  t.equal(held.dropped, 0);

  await proxy.open();
  t.equal(await publisher.drain(20_000), true, 'the broker takes all of them while the disk is still full');
  const got = new Set(sub.detections(DETECTION).map((d) => d.term));
  t.same(Array.from({ length: total }, (_, i) => `term${i}`).filter((term) => !got.has(term)), [], 'every detection arrived');

  await waitFor('the error reports', () => sub.on(ERROR).length >= held.inMemory);
  const errors = sub.on(ERROR).map((m) => JSON.parse(m.payload) as { where: string; seq?: number; term?: string; message: string });
  const reported = errors.filter((e) => e.where === 'outbox' && e.seq !== undefined);
  t.equal(reported.length, held.inMemory, 'one error per detection held in memory');
  t.match(reported[0], { term: /^term\d+$/, message: /^detection seq \d+ \(term "term\d+"\) could not be written to .*outbox\.jsonl: ENOSPC.*held in memory/ });
  for (const e of sub.on(ERROR)) t.equal(validate('error.schema.json', JSON.parse(e.payload)), null, 'error matches its schema');

  publisher.publishHealth({});
  await waitFor('health', () => sub.on(HEALTH).length > 0);
  const health = JSON.parse(sub.on(HEALTH).at(-1)!.payload) as { outbox: Record<string, number> };
  t.equal(validate('health.schema.json', health), null, 'health matches its schema');
  t.match(health.outbox, { dropped: 0, inMemory: 0, depth: 0 });
  t.ok(health.outbox.writeFailures! > 0, 'health shows the failed writes');
  await free();
  await publisher.stop();
});

t.test('disk full at shutdown: stop() resolves, logs the failed step, and `offline` is published', async (t) => {
  const sub = await Collector.connect(broker.url, [DETECTION, STATUS]);
  t.teardown(() => sub.close());
  const stateDir = await smallTmpfs(t);
  const errors: string[] = [];
  const logger = { debug() {}, info() {}, warn() {}, error: (m: string, f?: Record<string, unknown>) => { errors.push(`${m} ${JSON.stringify(f)}`); } };
  const publisher = new MqttPublisher(publisherOptions(broker.url, stateDir, { logger, outboxTuning: { ackFlushMs: 60_000 } }));
  await publisher.start();
  await waitFor('connected', () => publisher.stats().connected);
  for (let i = 0; i < 3; i++) await publisher.publishDetection(detectionInput(i));
  t.equal(await publisher.drain(10_000), true, 'acknowledged: the watermark is due at close');
  await fillDisk(stateDir);
  await t.resolves(publisher.stop(), 'stop does not throw');
  t.match(errors.join('\n'), /outbox: could not write the acknowledged watermark at close.*ENOSPC/);
  await waitFor('offline', () => sub.on(STATUS).some((m) => m.payload === 'offline'));
  t.pass('offline published');
});

for (const [name, content] of [['empty', ''], ['garbage', '{"acked'], ['impossible', '{"ackedThrough":1e12}']]) {
  t.test(`watermark file ${name}: the publisher starts, reports it naming the file, and delivers all 31 waiting detections`, async (t) => {
    const stateDir = await tempDir(t);
    const proxy = await TcpProxy.create(broker.port);
    await proxy.shut();
    t.teardown(() => proxy.shut());
    const offline = new MqttPublisher(publisherOptions(`mqtt://127.0.0.1:${proxy.port}`, stateDir));
    offline.on('error', () => undefined);
    await offline.start();
    for (let i = 0; i < 31; i++) await offline.publishDetection(detectionInput(i));
    await offline.stop();
    const ackFile = path.join(stateDir, 'outbox.ack.json');
    await writeFile(ackFile, content);

    const sub = await Collector.connect(broker.url, [DETECTION, ERROR]);
    t.teardown(() => sub.close());
    const publisher = new MqttPublisher(publisherOptions(broker.url, stateDir));
    await t.resolves(publisher.start(), 'starts (no restart loop)');
    t.equal(await publisher.drain(20_000), true);
    t.equal(sub.detections(DETECTION).length, 31, 'all 31 replayed');
    await waitFor('the error', () => sub.on(ERROR).length > 0);
    t.match(JSON.parse(sub.on(ERROR)[0]!.payload), { where: 'outbox', message: `outbox watermark ${ackFile} ` });
    await publisher.stop();
  });
}
