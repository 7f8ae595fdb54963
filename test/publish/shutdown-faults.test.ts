/**
 * A clean stop leaves no fault `ON` beside `offline` (issue 21, item 5): against a real mosquitto,
 * every fault that is ON is published OFF (retained) before `offline`.
 */
import t from 'tap';
import mqtt from 'mqtt';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, publisherOptions, tempDir, waitFor } from './helpers.js';

const broker = await startMosquitto();
t.teardown(() => broker.close());

/** The retained payload of one of dev1's topics, read by a fresh client (null if none within a second). */
async function retainedOf(suffix: string): Promise<string | null> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync(`gearhear/dev1/${suffix}`, { qos: 1 });
    return await Promise.race([got, new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
  } finally {
    await client.endAsync(true);
  }
}

t.test('a clean stop turns every ON fault OFF, retained, before offline', async (t) => {
  const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t), { faultCategories: ['leak'] }));
  t.teardown(() => publisher.stop());
  await publisher.start();
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/status', 'gearhear/dev1/fault/+']);
  t.teardown(() => sub.close());
  await waitFor('connected', () => publisher.stats().connected);
  await publisher.publishDetection(detectionInput(1, 'bearing'));
  await publisher.publishDetection(detectionInput(2, 'flow'));
  await waitFor('faults ON', () => ['bearing', 'flow'].every((c) => sub.on(`gearhear/dev1/fault/${c}`).some((m) => m.payload === 'ON')));
  t.equal(await retainedOf('fault/bearing'), 'ON', 'while running, the fault is ON');

  await publisher.stop();
  await waitFor('offline', () => sub.on('gearhear/dev1/status').some((m) => m.payload === 'offline'));
  const order = sub.messages.map((m) => `${m.topic.slice('gearhear/dev1/'.length)} ${m.payload}`);
  const offlineAt = order.indexOf('status offline');
  for (const c of ['bearing', 'flow']) {
    const offAt = order.lastIndexOf(`fault/${c} OFF`);
    t.ok(offAt > order.lastIndexOf(`fault/${c} ON`) && offAt < offlineAt, `fault/${c}: OFF after its ON and before offline (${order.join(', ')})`);
  }
  t.equal(await retainedOf('fault/bearing'), 'OFF', 'a later subscriber sees fault/bearing OFF');
  t.equal(await retainedOf('fault/flow'), 'OFF', 'and fault/flow OFF');
  t.equal(await retainedOf('fault/leak'), 'OFF', 'a fault that never went ON stays OFF');
  t.equal(await retainedOf('status'), 'offline', 'beside status offline');
});
