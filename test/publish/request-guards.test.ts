/**
 * Requests that must not be served as sent (issue 21), against a real mosquitto: a retained request
 * (the broker would hand it over on every subscribe, for ever) is answered with an error once and
 * never served; a flood is served a few at a time and the rest answered "busy" at once.
 */
import t from 'tap';
import mqtt from 'mqtt';
import type { Logger } from '../../src/log.js';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { RequestRouter, type RequestResponse } from '../../src/publish/requests.js';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { Collector, publisherOptions, tempDir, waitFor } from './helpers.js';

const broker = await startMosquitto();
t.teardown(() => broker.close());

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (msg) => { warnings.push(msg); }, error() {} };
}

const responses = (sub: Collector, action: string): RequestResponse[] =>
  sub.on(`gearhear/dev1/response/${action}`).map((m) => JSON.parse(m.payload) as RequestResponse);

t.test('a retained request is not served: one error answer with its transaction, and a warning saying how to clear it', async (t) => {
  const requestTopic = 'gearhear/dev1/request/echo';
  const other = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await other.publishAsync(requestTopic, '{"transaction":"r1"}', { qos: 1, retain: true });
  t.teardown(() => other.endAsync());
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/response/+']);
  t.teardown(() => sub.close());

  const proxy = await TcpProxy.create(broker.port);
  t.teardown(() => proxy.shut());
  const logger = recordingLogger();
  const publisher = new MqttPublisher(publisherOptions(`mqtt://127.0.0.1:${proxy.port}`, await tempDir(t), { logger }));
  let served = 0;
  publisher.serveRequests(new RequestRouter({ respond: (a, r) => publisher.respond(a, r), logger }).handle('echo', () => ({ served: ++served })));
  t.teardown(() => publisher.stop());
  await publisher.start();

  await waitFor('the answer to the retained request', () => responses(sub, 'echo').length > 0);
  const [answer] = responses(sub, 'echo');
  t.equal(answer!.status, 'error', 'answered with an error');
  t.equal(answer!.transaction, 'r1', 'carrying its transaction');
  t.match(answer!.error, `retained requests are not served (the broker would repeat them on every connect): clear it with \`mosquitto_pub -r -n -t '${requestTopic}'\``, 'saying why and how to clear it');
  t.equal(served, 0, 'the handler never ran');
  t.same(logger.warnings.filter((w) => w.includes('retained')), [`ignoring a retained request on ${requestTopic}: requests must be sent without retain; clear it with \`mosquitto_pub -r -n -t '${requestTopic}'\``], 'one warning, naming the command that clears it');

  await proxy.shut(); // a reconnect subscribes again: the broker hands the retained request over again
  await waitFor('disconnected', () => !publisher.stats().connected);
  await proxy.open();
  await waitFor('reconnected', () => publisher.stats().connected);
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(responses(sub, 'echo').length, 1, 'after a reconnect it is not answered again');
  t.equal(served, 0, 'nor served');
  t.equal(logger.warnings.filter((w) => w.includes('retained')).length, 1, 'nor logged again');

  // Cleared as the warning says: the broker forwards an empty message (retain flag cleared), which is not served.
  await other.publishAsync(requestTopic, '', { qos: 1, retain: true });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(responses(sub, 'echo').length, 1, 'clearing it is not answered');
  t.equal(served, 0, 'nor served as an empty request');

  await sub.client.publishAsync(requestTopic, '{"transaction":"live"}', { qos: 1 });
  await waitFor('the live answer', () => responses(sub, 'echo').some((r) => r.transaction === 'live'));
  t.same(responses(sub, 'echo').find((r) => r.transaction === 'live'), { status: 'ok', data: { served: 1 }, transaction: 'live' }, 'a request sent without retain is served');
});

t.test('a flood is served a few at a time; the rest is answered "busy" at once with its transaction', async (t) => {
  const limits = { running: 2, waiting: 4 };
  const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t)));
  let running = 0;
  let mostAtOnce = 0;
  const slow = async (): Promise<unknown> => {
    mostAtOnce = Math.max(mostAtOnce, ++running);
    await new Promise((r) => setTimeout(r, 100));
    running--;
    return { done: true };
  };
  publisher.serveRequests(new RequestRouter({ respond: (a, r) => publisher.respond(a, r), logger: recordingLogger(), limits }).handle('slow', slow));
  t.teardown(() => publisher.stop());
  await publisher.start();
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/response/+']);
  t.teardown(() => sub.close());
  await waitFor('connected', () => publisher.stats().connected);
  await new Promise((r) => setTimeout(r, 300)); // the SUBSCRIBE to request/+ is on its way

  const flood = 200;
  await Promise.all(Array.from({ length: flood }, (_, i) => sub.client.publishAsync('gearhear/dev1/request/slow', JSON.stringify({ transaction: `f${i}` }), { qos: 1 })));
  await waitFor('every request answered', () => responses(sub, 'slow').length >= flood, 30_000);
  await new Promise((r) => setTimeout(r, 300));
  const answers = responses(sub, 'slow');
  t.equal(answers.length, flood, 'exactly one answer per request');
  t.same(new Set(answers.map((a) => a.transaction)).size, flood, 'each carrying its own transaction');
  const busy = answers.filter((a) => a.status === 'error');
  t.ok(busy.length > 0 && busy.every((a) => /^busy: 2 requests are being served and 4 are waiting/.test(a.error!)), `${busy.length} answered busy`);
  t.ok(answers.length - busy.length >= limits.running + limits.waiting, `${answers.length - busy.length} served`);
  t.ok(mostAtOnce <= limits.running, `at most ${limits.running} served at once (${mostAtOnce})`);

  await sub.client.publishAsync('gearhear/dev1/request/slow', '{"transaction":"after"}', { qos: 1 });
  await waitFor('the answer after the flood', () => responses(sub, 'slow').some((a) => a.transaction === 'after'));
  t.equal(responses(sub, 'slow').find((a) => a.transaction === 'after')!.status, 'ok', 'after the flood, requests are served again');
});
