/**
 * A large outbox is read back completely, in order, by the real publisher against a real
 * mosquitto, though only a window of it is in memory at a time (issue 21, item 12; the memory
 * figures are in bench/outbox-memory.ts, not here).
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { Outbox } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/log.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { Collector, publisherOptions, tempDir, waitFor } from './helpers.js';

const DETECTION = 'gearhear/dev1/detection';
const RECORDS = 6000; // about 2.4 MB: more than the 1 MiB read-ahead window

async function writeLargeOutbox(dir: string): Promise<void> {
  const t0 = Date.now();
  const lines: string[] = [];
  for (let seq = 1; seq <= RECORDS; seq++) {
    const msg = { id: `dev1-${seq}`, seq, deviceId: 'dev1', term: `term${seq}`, category: 'bearing', severity: 'high', confidence: 0.9, pad: 'x'.repeat(300) };
    lines.push(`\u001e{"seq":${seq},"t":${t0},"msg":${JSON.stringify(msg)}}\n`);
  }
  await writeFile(path.join(dir, 'outbox.jsonl'), lines.join(''));
}

t.test('every record of a 2.4 MB outbox is read back in order with a 4 KiB read-ahead window', async (t) => {
  const dir = await tempDir(t);
  await writeLargeOutbox(dir);
  let wake: (() => void) | null = null;
  const box = await Outbox.open({ dir, maxBytes: 50e6, maxAgeMs: 3600_000, logger: silentLogger, readAheadBytes: 4096, onReadable: () => wake?.() });
  const seqs: number[] = [];
  const wrong: number[] = [];
  let cursor = 0;
  while (box.depth > 0) {
    const r = box.firstAfter(cursor);
    if (!r) {
      await new Promise<void>((resolve) => { wake = resolve; }); // being read from disk
      continue;
    }
    if ((JSON.parse(r.payload) as { term: string }).term !== `term${r.seq}`) wrong.push(r.seq);
    seqs.push(r.seq);
    cursor = r.seq;
    box.ack(r.seq);
  }
  t.same(wrong, [], 'each payload is its own record\'s');
  t.same(seqs, Array.from({ length: RECORDS }, (_, i) => i + 1), 'all of them, in seq order');
  await box.close();
});

t.test('the publisher delivers a 2.4 MB outbox completely after a restart', async (t) => {
  // The subscriber only observes: mosquitto's default queue (1000 messages per client) would drop what
  // a subscriber slowed by a busy machine has not taken yet, after the publisher's delivery succeeded.
  const broker = await startMosquitto({ extraConfig: ['max_queued_messages 0'] });
  t.teardown(() => broker.close());
  const dir = await tempDir(t);
  await writeLargeOutbox(dir);
  const sub = await Collector.connect(broker.url, [DETECTION]);
  t.teardown(() => sub.close());
  const publisher = new MqttPublisher(publisherOptions(broker.url, dir, { outbox: { maxBytes: 50e6, maxAgeMs: 3600_000 } }));
  await publisher.start();
  t.equal(await publisher.drain(120_000), true, 'drained');
  await waitFor('every detection at the subscriber', () => sub.detections(DETECTION).length >= RECORDS, 30_000);
  t.same(sub.detections(DETECTION).map((d) => d.seq), Array.from({ length: RECORDS }, (_, i) => i + 1), 'all of them, first arrivals in seq order');
  await publisher.stop();
});
