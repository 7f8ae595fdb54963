/**
 * request/<action> -> response/<action> over a real mosquitto (Zigbee2MQTT's bridge/request
 * convention), and the persistent session that lets the broker queue requests while the device is away.
 */
import t, { type Test } from 'tap';
import mqtt from 'mqtt';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { RequestError, RequestRouter } from '../../src/publish/requests.js';
import { silentLogger } from '../../src/log.js';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { Collector, loadSchemas, publisherOptions, tempDir, waitFor } from './helpers.js';

const broker = await startMosquitto();
t.teardown(() => broker.close());
const validate = await loadSchemas();

function routerFor(publisher: MqttPublisher): RequestRouter {
  return new RequestRouter({ respond: (a, r) => publisher.respond(a, r), logger: silentLogger })
    .handle('echo', (p) => ({ got: p }))
    .handle('fail', () => { throw new Error('disk on fire'); })
    .handle('refuse', () => { throw new RequestError('bad id'); });
}

t.test('requests are answered on response/<action> with the transaction, as the schemas say', async (t) => {
  const publisher = new MqttPublisher(publisherOptions(broker.url, await tempDir(t)));
  publisher.serveRequests(routerFor(publisher));
  t.teardown(() => publisher.stop());
  await publisher.start();
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/response/+']);
  t.teardown(() => sub.close());
  await waitFor('connected', () => publisher.stats().connected);
  await new Promise((r) => setTimeout(r, 200)); // the SUBSCRIBE to request/+ is on its way
  const ask = async (action: string, payload: string, count: number): Promise<Record<string, unknown>> => {
    await sub.client.publishAsync(`gearhear/dev1/request/${action}`, payload, { qos: 1 });
    await waitFor(`response/${action}`, () => sub.on(`gearhear/dev1/response/${action}`).length >= count);
    const m = sub.on(`gearhear/dev1/response/${action}`).at(-1)!;
    t.equal(m.retain, false, 'responses are not retained');
    const body = JSON.parse(m.payload) as Record<string, unknown>;
    const request = (() => { try { return JSON.parse(payload || '{}') as unknown; } catch { return null; } })();
    if (request !== null && !Array.isArray(request) && body.status === 'ok') t.equal(validate('request.schema.json', request), null, `request ${payload} matches request.schema.json`);
    t.equal(validate('response.schema.json', body), null, 'response matches response.schema.json');
    return body;
  };
  t.same(await ask('echo', '{"transaction":"abc","x":1}', 1), { status: 'ok', data: { got: { x: 1 } }, transaction: 'abc' }, 'ok with data and the transaction');
  t.same(await ask('echo', '', 2), { status: 'ok', data: { got: {} } }, 'an empty payload is {}; no transaction, none echoed');
  t.same(await ask('echo', '{"transaction":7}', 3), { status: 'ok', data: { got: {} }, transaction: 7 }, 'numeric transaction echoed');
  const unknown = await ask('frobnicate', '{"transaction":"u"}', 1);
  t.equal(unknown.status, 'error');
  t.match(unknown.error, /unknown request "frobnicate"; this device answers: echo, fail, refuse/, 'unknown action names the ones there are');
  t.equal(unknown.transaction, 'u');
  t.match((await ask('fail', '{}', 1)).error, 'disk on fire', 'a failing handler is an error response, not a crash');
  t.match((await ask('refuse', '{}', 1)).error, 'bad id');
  const notJson = await ask('echo', 'reload please', 4);
  t.equal(notJson.status, 'error');
  t.match(notJson.error, /not JSON/, 'a payload that is not JSON says so');
  t.match((await ask('echo', '[1,2]', 5)).error, /must be a JSON object/);
  t.match((await ask('echo', '{"transaction":{"a":1}}', 6)).error, /"transaction" must be a string or a number/);
});

async function requestWhileAway(t: Test, persistentSession: boolean): Promise<string[]> {
  const proxy = await TcpProxy.create(broker.port);
  t.teardown(() => proxy.shut());
  const publisher = new MqttPublisher(publisherOptions(`mqtt://127.0.0.1:${proxy.port}`, await tempDir(t), {
    persistentSession, clientId: `gearhear-persist-${persistentSession}`,
  }));
  publisher.serveRequests(routerFor(publisher));
  t.teardown(() => publisher.stop());
  await publisher.start();
  const sub = await Collector.connect(broker.url, ['gearhear/dev1/response/echo']);
  t.teardown(() => sub.close());
  await waitFor('connected', () => publisher.stats().connected);
  await new Promise((r) => setTimeout(r, 300));
  await proxy.shut(); // the device's link goes away; the broker stays up
  await waitFor('disconnected', () => !publisher.stats().connected);
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await client.publishAsync('gearhear/dev1/request/echo', '{"transaction":"while-away"}', { qos: 1 });
  await client.endAsync();
  await proxy.open();
  await waitFor('reconnected', () => publisher.stats().connected, 15_000);
  await new Promise((r) => setTimeout(r, 1000));
  return sub.on('gearhear/dev1/response/echo').map((m) => (JSON.parse(m.payload) as { transaction: string }).transaction);
}

t.test('mqtt.persistentSession: a request sent while the device was away is answered when it is back', async (t) => {
  t.same(await requestWhileAway(t, true), ['while-away'], 'persistent session: the broker queued it');
});

t.test('a clean session (the default) misses requests sent while away', async (t) => {
  t.same(await requestWhileAway(t, false), [], 'clean session: nothing queued');
});
