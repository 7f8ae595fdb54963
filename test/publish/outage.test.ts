import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { Collector, detectionInput, publisherOptions, repoRoot, tempDir, waitFor } from './helpers.js';

const TOPIC = 'gearhear/dev1/detection';

/** First arrivals must come in seq order, every seq belongs to one id, and every wanted term is there. */
function checkDelivery(t: Test, sub: Collector, terms: number): void {
  const unique = sub.detections(TOPIC);
  const seqs = unique.map((d) => d.seq as number);
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'first arrivals are in seq order');
  t.equal(new Set(seqs).size, seqs.length, 'each seq belongs to exactly one id');
  const got = new Set(unique.map((d) => d.term));
  const missing = Array.from({ length: terms }, (_, i) => `term${i}`).filter((term) => !got.has(term));
  t.same(missing, [], 'every detection arrived at least once');
}

t.test('broker stopped and restarted mid-stream: nothing lost, order kept', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  // The publisher reaches the broker through a proxy we can hold shut until the subscriber is back,
  // because a broker without persistence forgets subscriptions on restart.
  const proxy = await TcpProxy.create(broker.port);
  t.teardown(() => proxy.shut());
  const sub = await Collector.connect(broker.url, [TOPIC]);
  t.teardown(() => sub.close());
  const publisher = new MqttPublisher(publisherOptions(`mqtt://127.0.0.1:${proxy.port}`, await tempDir(t), { inflightWindow: 4 }));
  publisher.on('error', () => undefined);
  await publisher.start();
  await waitFor('connected', () => publisher.stats().connected);

  const first = Array.from({ length: 15 }, (_, i) => publisher.publishDetection(detectionInput(i)));
  await first[3];
  await proxy.shut(); // mid-stream: some detections in flight, some not yet sent
  await Promise.all(first);
  await waitFor('publisher notices', () => !publisher.stats().connected);
  // What the broker acknowledged is its responsibility; let it reach the subscriber before the broker dies.
  await waitFor('acked ones delivered', () => sub.detections(TOPIC).length >= publisher.stats().acked);
  await broker.stop();
  for (let i = 15; i < 30; i++) await publisher.publishDetection(detectionInput(i));
  t.ok(publisher.stats().outbox.depth >= 15, `detections wait in the outbox while the broker is down (depth ${publisher.stats().outbox.depth})`);
  t.equal(await publisher.drain(300), false, 'drain reports not empty while offline');

  await broker.restart();
  await waitFor('subscriber back', () => sub.client.connected);
  await sub.client.subscribeAsync(TOPIC, { qos: 1 });
  await proxy.open();
  t.equal(await publisher.drain(20_000), true, 'outbox empty after reconnect');
  checkDelivery(t, sub, 30);
  t.same(publisher.stats().outbox.dropped, 0);
  await publisher.stop();
});

function runChild(args: object): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [...process.execArgv, path.join(repoRoot, 'test/fixtures/publish-child.ts'), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, exit };
}

t.test('publisher killed with SIGKILL mid-stream: a restart on the same state dir delivers everything', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const sub = await Collector.connect(broker.url, [TOPIC]);
  t.teardown(() => sub.close());
  const stateDir = await tempDir(t);
  const total = 60;

  const first = runChild({ url: broker.url, stateDir, from: 0, count: total, window: 2, slowAfter: 20, slowMs: 250 });
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitFor('20 appended', () => first.out().includes('appended 20\n'), 30_000);
  first.child.kill('SIGKILL');
  await first.exit;
  const appended = [...first.out().matchAll(/appended (\d+)\n/g)].map((m) => Number(m[1]));
  const last = Math.max(...appended);
  t.ok(last < total - 1, `killed mid-stream after ${last + 1} of ${total}`);

  const second = runChild({ url: broker.url, stateDir, from: last + 1, count: total });
  t.teardown(() => second.child.kill('SIGKILL'));
  t.equal(await second.exit, 0);
  t.match(second.out(), /drained/);
  await waitFor('all terms', () => new Set(sub.detections(TOPIC).map((d) => d.term)).size >= total);
  checkDelivery(t, sub, total);
});
