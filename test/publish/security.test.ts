import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MqttPublisher } from '../../src/publish/publisher.js';
import type { PublishError } from '../../src/publish/types.js';
import { makeCertificates } from '../fixtures/certificates.js';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, publisherOptions, tempDir, waitFor } from './helpers.js';

t.test('TLS with client certificates, password file and ACL', async (t) => {
  const dir = await tempDir(t);
  const certs = await makeCertificates(dir);
  const broker = await startMosquitto({
    tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey, requireCertificate: true },
    users: [['gh', 's3cret'], ['watcher', 'w4tch']],
    acl: 'user gh\ntopic readwrite gearhear/dev1/#\ntopic readwrite homeassistant/#\n\nuser watcher\ntopic read gearhear/#\n',
  });
  t.teardown(() => broker.close());
  const tls = { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey };
  const sub = await Collector.connect(broker.url, ['gearhear/#'], { username: 'watcher', password: 'w4tch', ca: await readFile(certs.ca), cert: await readFile(certs.clientCert), key: await readFile(certs.clientKey) });
  t.teardown(() => sub.close());

  t.test('connects with the right credentials and delivers', async (t) => {
    const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t), { username: 'gh', password: 's3cret', tls }));
    const errors: PublishError[] = [];
    publisher.on('error', (e) => errors.push(e));
    await publisher.start();
    await publisher.publishDetection(detectionInput(1));
    t.equal(await publisher.drain(15_000), true);
    await waitFor('detection over TLS', () => sub.on('gearhear/dev1/detection').length > 0);
    t.same(errors.map((e) => e.message), []);
    await publisher.stop();
  });

  t.test('wrong password: a clear error, and reconnects back off', async (t) => {
    const proxy = await TcpProxy.create(broker.port);
    t.teardown(() => proxy.shut());
    const publisher = new MqttPublisher(publisherOptions(`mqtts://127.0.0.1:${proxy.port}`, await tempDir(t), { username: 'gh', password: 'wrong', tls, reconnect: { minDelayMs: 500, maxDelayMs: 30_000 } }));
    const errors: PublishError[] = [];
    publisher.on('error', (e) => errors.push(e));
    await publisher.start();
    await waitFor('refusal reported', () => errors.length > 0);
    t.match(errors[0]!.message, /refused the connection: (Not authorized|Bad username or password) \(CONNACK code [45]\); check the MQTT username and password/);
    t.equal(errors[0]!.where, 'connect');
    await new Promise((r) => setTimeout(r, 3000));
    t.ok(proxy.connections <= 4, `${proxy.connections} connection attempts in ~3 s (exponential backoff, not a tight loop)`);
    t.equal(publisher.stats().connected, false, 'not believed connected after a refusal');
    t.ok(publisher.stats().refusals >= 1);
    t.equal(errors.length, 1, 'the same refusal is reported once, not on every retry');
    await publisher.stop();
  });

  t.test('server certificates are verified by default', async (t) => {
    const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t), { username: 'gh', password: 's3cret', tls: { certFile: certs.clientCert, keyFile: certs.clientKey } }));
    const errors: PublishError[] = [];
    publisher.on('error', (e) => errors.push(e));
    await publisher.start();
    await waitFor('TLS failure reported', () => errors.length > 0);
    t.equal(errors[0]!.where, 'tls');
    t.match(errors[0]!.message, /TLS handshake with mqtts:\/\/127\.0\.0\.1:\d+ failed: .*certificate/);
    t.equal(publisher.stats().connected, false);
    await publisher.stop();
  });

  t.test('a missing certificate file is named', async (t) => {
    const missing = path.join(dir, 'nope.pem');
    const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t), { tls: { ...tls, caFile: missing } }));
    await t.rejects(publisher.start(), { message: `MQTT TLS CA certificate (mqtt.ca) file ${missing} does not exist: fix the path` });
    await publisher.stop();
  });
});
