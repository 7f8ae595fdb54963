import t from 'tap';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Outbox } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from './helpers.js';

const limits = { maxBytes: 1024 * 1024, maxAgeMs: 3600_000 };

async function appendN(box: Outbox, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const { seq, stored } = box.append((s) => ({ seq: s, term: `t${i}` }));
    seqs.push(seq);
    const result = await stored;
    if (!result.durable) throw result.error;
  }
  return seqs;
}

function pendingSeqs(box: Outbox): number[] {
  const out: number[] = [];
  for (let r = box.firstAfter(0); r; r = box.firstAfter(r.seq)) out.push(r.seq);
  return out;
}

t.test('records survive a reopen; acknowledged ones do not; seq keeps counting', async (t) => {
  const dir = await tempDir(t);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(await appendN(box, 5), [1, 2, 3, 4, 5]);
  box.ack(1);
  box.ack(3); // out of order: 3 is done but 2 is not, so the watermark stays at 1
  t.same(pendingSeqs(box), [2, 4, 5]);
  await box.close();
  const again = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingSeqs(again), [2, 4, 5], 'a clean close compacts acknowledged records away, even out of order');
  t.equal(JSON.parse(again.firstAfter(0)!.payload).term, 't1');
  for (const s of [2, 4, 5]) again.ack(s);
  t.equal(again.depth, 0);
  await again.close();
  const third = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.equal(third.depth, 0);
  t.equal(await readFile(path.join(dir, 'outbox.jsonl'), 'utf8'), '', 'the log is compacted once everything is acknowledged');
  t.same(await appendN(third, 1), [6], 'seq continues after an empty, compacted outbox');
  await third.close();
});

t.test('a seq is never given twice, even when the newest records were acknowledged out of order and compacted away', async (t) => {
  const dir = await tempDir(t);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(await appendN(box, 3), [1, 2, 3]);
  box.ack(1);
  box.ack(3); // 3 reached the broker before 2: the watermark stays at 1
  await box.close(); // compaction leaves only seq 2 in the log
  const again = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingSeqs(again), [2]);
  t.same(await appendN(again, 1), [4], 'seq 3 was delivered: the next detection gets 4, not 3 again (seq is strictly increasing across restarts, docs/mqtt.md)');
  await again.close();
  const third = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(await appendN(third, 1), [5]);
  await third.close();
});

t.test('a torn last record is skipped, counted, and cut off so appends continue cleanly', async (t) => {
  const dir = await tempDir(t);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger });
  await appendN(box, 3);
  await box.close();
  const log = path.join(dir, 'outbox.jsonl');
  await appendFile(log, '{"seq":4,"t":1,"msg":{"term":"half');
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m} ${JSON.stringify(f)}`) };
  const reopened = await Outbox.open({ dir, ...limits, logger });
  t.equal(reopened.stats().tornRecords, 1);
  t.match(warnings.join('\n'), /outbox\.jsonl line 4: unterminated \(torn\) record/);
  t.same(pendingSeqs(reopened), [1, 2, 3]);
  t.same(await appendN(reopened, 1), [4]);
  await reopened.close();
  const lines = (await readFile(log, 'utf8')).trim().split('\n');
  t.equal(lines.length, 4);
  for (const l of lines) JSON.parse(l.replace(/^\u001e/, ''));
});

t.test('an unreadable record in the middle is skipped and counted too', async (t) => {
  const dir = await tempDir(t);
  const log = path.join(dir, 'outbox.jsonl');
  await writeFile(log, '{"seq":1,"t":1,"msg":{"a":1}}\n\u0000\u0000\u0000\n{"seq":3,"t":1,"msg":{"a":3}}\n');
  const box = await Outbox.open({ dir, maxBytes: 1e6, maxAgeMs: 1e15, logger: silentLogger });
  t.equal(box.stats().tornRecords, 1);
  t.same(pendingSeqs(box), [1, 3]);
  t.equal(box.stats().nextSeq, 4);
  await box.close();
});

t.test('the size bound drops the oldest and counts them', async (t) => {
  const dir = await tempDir(t);
  const dropped: number[] = [];
  const box = await Outbox.open({ dir, maxBytes: 400, maxAgeMs: 3600_000, logger: silentLogger, onDrop: (s) => dropped.push(...s) });
  await appendN(box, 20);
  const stats = box.stats();
  t.ok(stats.bytes <= 400, `bytes ${stats.bytes} within the bound`);
  t.equal(stats.droppedBySize, 20 - stats.depth);
  t.equal(stats.dropped, stats.droppedBySize);
  t.same(dropped, Array.from({ length: stats.droppedBySize }, (_, i) => i + 1), 'the oldest went first');
  t.same(pendingSeqs(box), Array.from({ length: stats.depth }, (_, i) => 21 - stats.depth + i), 'the newest are kept in order');
  await box.close();
  const reopened = await Outbox.open({ dir, maxBytes: 400, maxAgeMs: 3600_000, logger: silentLogger });
  t.same(pendingSeqs(reopened), pendingSeqs(box), 'dropped records stay dropped after a restart');
  await reopened.close();
});

t.test('the age bound drops records never acknowledged in time', async (t) => {
  const dir = await tempDir(t);
  let now = 1_000_000;
  let monotonic = 5_000;
  const clocks = { now: () => now, monotonicNow: () => monotonic };
  const box = await Outbox.open({ dir, maxBytes: 1e6, maxAgeMs: 60_000, logger: silentLogger, ...clocks });
  await appendN(box, 3);
  now += 30_000;
  monotonic += 30_000;
  await appendN(box, 2);
  now += 40_000; // the first three are now 70 s old
  monotonic += 40_000;
  t.same(pendingSeqs(box), [4, 5]);
  t.equal(box.stats().droppedByAge, 3);
  t.equal(box.stats().dropped, 3);
  await box.close();
});
