/**
 * The MQTT contract as Home Assistant and Zigbee2MQTT users expect it: discovery asks for QoS 1,
 * payload figures are rounded exactly as `detect --json` rounds them, and a detection replayed after
 * an outage keeps the timestamp of when it was heard.
 */
import t from 'tap';
import { buildDiscovery, DEFAULT_HEALTH_SENSORS } from '../../src/publish/discovery.js';
import { buildDetection } from '../../src/publish/messages.js';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { DeviceTopics } from '../../src/publish/topics.js';
import { detectionJson } from '../../src/cli/detect.js';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, loadSchemas, publisherOptions, tempDir, waitFor } from './helpers.js';

t.test('every Home Assistant discovery config asks for QoS 1', async (t) => {
  const messages = buildDiscovery({
    prefix: 'homeassistant', deviceId: 'dev1', deviceName: 'gearhear dev1', topics: new DeviceTopics('gearhear', 'dev1'),
    categories: ['bearing', 'belt'], healthSensors: DEFAULT_HEALTH_SENSORS,
  });
  t.ok(messages.length >= 6, `${messages.length} entities`);
  for (const m of messages) t.equal(m.config.qos, 1, `${m.topic}: qos 1`);
});

t.test('with evidence on: feedback buttons that send a valid request on the last detection', async (t) => {
  const validate = await loadSchemas();
  const messages = buildDiscovery({
    prefix: 'homeassistant', deviceId: 'dev1', deviceName: 'gearhear dev1', topics: new DeviceTopics('gearhear', 'dev1'),
    categories: ['bearing'], healthSensors: DEFAULT_HEALTH_SENSORS, feedbackButtons: true,
  });
  const buttons = messages.filter((m) => m.topic.startsWith('homeassistant/button/'));
  t.same(buttons.map((m) => m.topic), ['homeassistant/button/dev1/feedback_false/config', 'homeassistant/button/dev1/feedback_true/config']);
  for (const b of buttons) {
    t.equal(validate('ha-discovery.schema.json', b.config), null, `${b.topic} matches ha-discovery.schema.json`);
    t.equal(b.config.command_topic, 'gearhear/dev1/request/feedback');
    t.equal(validate('request.schema.json', JSON.parse(b.config.payload_press as string)), null, 'its payload is a valid request');
    t.equal(b.config.qos, 1);
  }
  t.equal(buildDiscovery({ prefix: 'homeassistant', deviceId: 'dev1', deviceName: 'x', topics: new DeviceTopics('gearhear', 'dev1'), categories: [], healthSensors: [] })
    .filter((m) => m.topic.includes('/button/')).length, 0, 'no buttons when evidence is off');
});

t.test('detection payload figures are rounded as detect --json rounds them', async (t) => {
  const heard = {
    ...detectionInput(1), start: 31.380000000000003, end: 31.990000000000002, confidence: 0.8765432101,
    threshold: 0.30000000000000004, levelDbfs: -23.456789,
  };
  const msg = buildDetection(heard, 1, 'dev1', undefined);
  t.same({ start: msg.start, end: msg.end, confidence: msg.confidence, threshold: msg.threshold, levelDbfs: msg.levelDbfs },
    { start: 31.38, end: 31.99, confidence: 0.877, threshold: 0.3, levelDbfs: -23.457 }, 'rounded to 3 decimals');
  t.notMatch(JSON.stringify(msg), /\d\.\d{4,}/, 'no long float in the payload');
  const cli = JSON.parse(detectionJson('a.wav', heard)) as Record<string, number>;
  for (const k of ['start', 'end', 'confidence', 'threshold', 'levelDbfs'] as const) t.equal(cli[k], msg[k], `${k}: detect --json and MQTT agree`);
  t.equal(buildDetection({ ...heard, levelDbfs: -Infinity }, 2, 'dev1', undefined).levelDbfs, -150, 'silence still clamps to the floor');
});

t.test('a detection replayed after an outage keeps its original timestamp', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  // The publisher reaches the broker through a proxy held shut until the subscriber is subscribed:
  // a broker without persistence would drop a replay that beats the subscriber to it.
  const proxy = await TcpProxy.create(broker.port);
  t.teardown(() => proxy.shut());
  await proxy.shut();
  await broker.stop();
  const publisher = new MqttPublisher(publisherOptions(`mqtt://127.0.0.1:${proxy.port}`, await tempDir(t)));
  t.teardown(() => publisher.stop());
  await publisher.start();
  const heardAt = Date.now();
  await publisher.publishDetection(detectionInput(1));
  await new Promise((r) => setTimeout(r, 1200));
  await broker.restart();
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/detection']);
  t.teardown(() => sub.close());
  const reconnectedAt = Date.now();
  await proxy.open();
  await waitFor('the replayed detection', () => sub.on('gearhear/dev1/detection').length > 0, 20_000);
  const d = JSON.parse(sub.on('gearhear/dev1/detection')[0]!.payload) as { timestamp: string };
  const ts = Date.parse(d.timestamp);
  t.ok(ts >= heardAt - 50 && ts < reconnectedAt - 1000, `timestamp ${d.timestamp} is when it was heard, not when it was sent`);
});
