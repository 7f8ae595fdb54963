import t from 'tap';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { startEmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { silentLogger } from '../../src/log.js';
import { Collector, detectionInput, loadSchemas, publisherOptions, tempDir, waitFor } from './helpers.js';

t.test('url "embedded" runs an in-process broker; a subscriber receives a detection', async (t) => {
  const validate = await loadSchemas();
  const publisher = new MqttPublisher(publisherOptions('embedded', await tempDir(t), { embeddedPort: 0 }));
  publisher.on('error', (e) => t.fail(e.message));
  await publisher.start();
  const url = publisher.embeddedUrl;
  t.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  t.not(url, 'mqtt://127.0.0.1:0', 'the bound port is exposed');
  const sub = await Collector.connect(url!, ['gearhear/#']);
  await waitFor('connected', () => publisher.stats().connected);
  await publisher.publishDetection(detectionInput(7));
  t.equal(await publisher.drain(10_000), true);
  await waitFor('detection', () => sub.on('gearhear/dev1/detection').length === 1);
  const d = JSON.parse(sub.on('gearhear/dev1/detection')[0]!.payload) as Record<string, unknown>;
  t.equal(validate('detection.schema.json', d), null);
  t.equal(d.term, 'term7');
  await sub.close();
  await publisher.stop();
});

t.test('an embedded broker port already in use is a clear error', async (t) => {
  const first = await startEmbeddedBroker({ port: 0, logger: silentLogger });
  t.teardown(() => first.stop());
  await t.rejects(startEmbeddedBroker({ port: first.port, logger: silentLogger }), { message: new RegExp(`embedded MQTT broker cannot listen on 127\\.0\\.0\\.1:${first.port}: .*port in use`) });
});
