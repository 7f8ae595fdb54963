/**
 * The outbox on a disk that fails: a real 64 KiB tmpfs that fills up, a real read-only bind mount,
 * damaged files. Nothing the outbox accepted may be lost or glued to a damaged neighbour, and
 * nothing here may throw past open().
 */
import t from 'tap';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Outbox, OutboxStorageError, type Stored } from '../../src/publish/outbox.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { bindMount, fillDisk, smallTmpfs, tempDir, waitFor } from './helpers.js';

const limits = { maxBytes: 1024 * 1024, maxAgeMs: 3600_000 };

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string, f?: Record<string, unknown>): void => { lines.push(`${level} ${m} ${JSON.stringify(f ?? {})}`); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function pendingTerms(box: Outbox): string[] {
  const out: string[] = [];
  for (let r = box.firstAfter(0); r; r = box.firstAfter(r.seq)) out.push((JSON.parse(r.payload) as { term: string }).term);
  return out;
}

function append(box: Outbox, term: string, pad = 0): Promise<Stored> {
  return box.append((seq) => ({ seq, term, pad: 'x'.repeat(pad) })).stored;
}

t.test('a full disk: detections wait in memory, counted, and reach the disk once there is room again', async (t) => {
  const dir = await smallTmpfs(t);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, retryMs: 50 });
  t.same(await append(box, 'before'), { durable: true });
  const free = await fillDisk(dir);
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await append(box, `full${i}`, 5000)); // more than the rest of the log's last page
  t.ok(results.every((r) => !r.durable), 'the disk refused all five, and append said so');
  t.match(results[0], { durable: false, error: { message: /could not write the outbox .*outbox\.jsonl: ENOSPC/ } });
  const during = box.stats();
  t.equal(during.depth, 6, 'all six are still in the outbox');
  t.equal(during.inMemory, 5, 'five of them only in memory');
  t.ok(during.writeFailures >= 5, `write failures counted (${during.writeFailures})`);
  t.equal(during.dropped, 0, 'nothing dropped');
  t.same(pendingTerms(box), ['before', 'full0', 'full1', 'full2', 'full3', 'full4'], 'in order, ready to publish');
  await free();
  await waitFor('the retry to write them', () => box.stats().inMemory === 0, 5000);
  await box.close();
  const reopened = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingTerms(reopened), ['before', 'full0', 'full1', 'full2', 'full3', 'full4'], 'all six survive a restart');
  t.equal(reopened.stats().tornRecords, 0, 'and the log holds no partial record');
  await reopened.close();
});

t.test('a write cut short at a page edge is not taken as durable, and does not take its neighbour along', async (t) => {
  const dir = await smallTmpfs(t);
  const log = path.join(dir, 'outbox.jsonl');
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, retryMs: 50 });
  t.same(await append(box, 'first'), { durable: true });
  const free = await fillDisk(dir);
  const sizeBefore = (await stat(log)).size;
  t.ok(sizeBefore < 4096, 'the log ends inside its first page, so a bigger record is cut at the page edge');
  const big = await append(box, 'big', 6000); // the kernel takes up to the page edge, then says ENOSPC
  t.equal(big.durable, false, 'a short write is not durable');
  t.equal((await stat(log)).size, sizeBefore, 'the partial record was cut off again');
  const small = await append(box, 'small');
  t.equal(small.durable, false, 'the next one waits behind it, in memory');
  await free();
  await waitFor('the retry', () => box.stats().inMemory === 0, 5000);
  await box.close();
  const reopened = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingTerms(reopened), ['first', 'big', 'small'], 'both survive a restart');
  t.equal(reopened.stats().tornRecords, 0);
  await reopened.close();
});

t.test('framing: a torn record glued to the next one costs only itself; plain JSON lines of old logs still read', async (t) => {
  const dir = await tempDir(t);
  const now = Date.now();
  const rec = (seq: number, term: string): string => `\u001e{"seq":${seq},"t":${now},"msg":{"term":"${term}"}}\n`;
  const torn = rec(2, 'torn').slice(0, 20);
  const old = `{"seq":1,"t":${now},"msg":{"term":"old-format"}}\n`;
  await writeFile(path.join(dir, 'outbox.jsonl'), old + torn + rec(3, 'neighbour') + rec(4, 'last'));
  const logger = recordingLogger();
  const box = await Outbox.open({ dir, ...limits, logger });
  t.same(pendingTerms(box), ['old-format', 'neighbour', 'last'], 'the neighbour of the torn record is kept');
  t.equal(box.stats().tornRecords, 1);
  t.match(logger.lines.join('\n'), /outbox\.jsonl line 2: unterminated \(torn\) record of 20 bytes skipped/);
  t.equal(box.stats().nextSeq, 5);
  await box.close();
});

t.test('the memory bound: beyond it the oldest waiting detections are dropped and counted', async (t) => {
  const dir = await smallTmpfs(t);
  const dropped: Array<[number[], string]> = [];
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, memoryMaxRecords: 3, retryMs: 60_000, onDrop: (s, why) => dropped.push([s, why]) });
  await fillDisk(dir);
  for (let i = 0; i < 5; i++) await append(box, `m${i}`);
  const s = box.stats();
  t.equal(s.inMemory, 3, 'three held');
  t.equal(s.droppedFromMemory, 2);
  t.equal(s.dropped, 2, 'counted in dropped');
  t.same(pendingTerms(box), ['m2', 'm3', 'm4'], 'the newest are kept');
  t.same(dropped, [[[1], 'memory'], [[2], 'memory']]);
  await box.close();
});

t.test('the memory bound applies only to what the disk refused, not to a big batch being written', async (t) => {
  const dir = await tempDir(t);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, memoryMaxRecords: 3 });
  const appended = Array.from({ length: 10 }, (_, i) => box.append((seq) => ({ seq, term: `b${i}` })).stored);
  await new Promise((r) => setImmediate(r));
  box.firstAfter(0); // the publisher looks while the batch is on its way to disk
  t.same(await Promise.all(appended), Array.from({ length: 10 }, () => ({ durable: true })));
  t.equal(box.stats().dropped, 0);
  t.equal(box.depth, 10);
  await box.close();
});

t.test('close() on a full disk resolves and logs what it could not do', async (t) => {
  const dir = await smallTmpfs(t);
  const logger = recordingLogger();
  const box = await Outbox.open({ dir, ...limits, logger, ackFlushMs: 60_000 });
  for (let i = 0; i < 3; i++) await append(box, `a${i}`);
  box.ack(1); // the watermark is now due, and will not fit
  await fillDisk(dir);
  await append(box, 'unwritten', 5000);
  await t.resolves(box.close(), 'close does not throw');
  const text = logger.lines.join('\n');
  t.match(text, /error outbox: could not write the acknowledged watermark at close.*outbox\.ack\.json.*ENOSPC/);
  t.match(text, /error outbox: 1 detection\(s\) never reached the disk or the broker and are lost; 2 stay in the outbox for the next start .*"error":"ENOSPC.*"seqs":\[4\]/);
});

t.test('a read-only state directory at open: OutboxStorageError naming it, exit code 78', async (t) => {
  const dir = await tempDir(t);
  const mount = await bindMount(t, dir);
  await mount.readOnly();
  const err = await Outbox.open({ dir, ...limits, logger: silentLogger }).then(() => null, (e: unknown) => e);
  t.ok(err instanceof OutboxStorageError, 'a storage error');
  t.match((err as Error).message, new RegExp(`state directory ${dir} is not writable \\(EROFS`));
  t.equal((err as OutboxStorageError).exitCode, 78);
});

t.test('a read-only remount mid-run: detections wait in memory, then reach the disk', async (t) => {
  const dir = await tempDir(t);
  const mount = await bindMount(t, dir);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, ackFlushMs: 10, retryMs: 50 });
  await append(box, 'acked');
  box.ack(1); // compaction closes the log file, so the remount is not busy
  await mount.readOnly();
  const r = await append(box, 'during');
  t.match(r, { durable: false, error: { message: /EROFS/ } });
  t.equal(box.stats().inMemory, 1);
  await mount.writable();
  await waitFor('the retry', () => box.stats().inMemory === 0, 5000);
  await box.close();
  const reopened = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingTerms(reopened), ['during']);
  await reopened.close();
});

t.test('a damaged watermark is reported naming the file, and the whole log is replayed', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /is empty/],
    ['garbage', '\u0000\u0000{not json', /is not JSON/],
    ['not a number', '{"ackedThrough":"7"}', /has no whole, non-negative "ackedThrough" \(got "7"\)/],
    ['impossible', '{"ackedThrough":1e12}', /claims ackedThrough 1000000000000, beyond the last record \(seq 3\)/],
    ['lastSeq below ackedThrough', '{"ackedThrough":2,"lastSeq":1}', /has a "lastSeq" that is not a whole number at or above ackedThrough 2 \(got 1\)/],
  ];
  for (const [name, content, why] of cases) {
    await t.test(name, async (t) => {
      const dir = await tempDir(t);
      const first = await Outbox.open({ dir, ...limits, logger: silentLogger });
      for (const term of ['a', 'b', 'c']) await append(first, term);
      await first.close();
      const ackFile = path.join(dir, 'outbox.ack.json');
      await writeFile(ackFile, content);
      const logger = recordingLogger();
      const box = await Outbox.open({ dir, ...limits, logger });
      t.same(pendingTerms(box), ['a', 'b', 'c'], 'every record replayed');
      t.equal(box.openProblems.length, 1);
      t.match(box.openProblems[0], new RegExp(`outbox watermark ${ackFile} `));
      t.match(box.openProblems[0], why);
      t.match(box.openProblems[0], /replaying the whole outbox from its start .*kept as .*outbox\.ack\.json\.damaged/);
      t.match(logger.lines.join('\n'), /error outbox: damaged watermark/);
      t.equal(await readFile(`${ackFile}.damaged`, 'utf8'), content, 'the damaged file is kept for a look');
      t.equal(box.stats().nextSeq, 4, 'seq continues after the log');
      await box.close();
      const again = await Outbox.open({ dir, ...limits, logger: silentLogger });
      t.same(again.openProblems, [], 'reported once, not at every start');
      await again.close();
    });
  }
});

t.test('a watermark at the last record is trusted; one past an empty log too', async (t) => {
  const dir = await tempDir(t);
  const first = await Outbox.open({ dir, ...limits, logger: silentLogger });
  for (const term of ['a', 'b']) await append(first, term);
  await first.close();
  await writeFile(path.join(dir, 'outbox.ack.json'), '{"ackedThrough":2}\n'); // a crash after the watermark, before compaction
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingTerms(box), []);
  t.same(box.openProblems, []);
  await box.close();
});

t.test('outbox files that are directories: the error names the path', async (t) => {
  for (const name of ['outbox.jsonl', 'outbox.ack.json']) {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, name));
    const err = await Outbox.open({ dir, ...limits, logger: silentLogger }).then(() => null, (e: unknown) => e);
    t.ok(err instanceof OutboxStorageError, `${name}: a storage error`);
    t.match((err as Error).message, new RegExp(`${path.join(dir, name).replace(/\./g, '\\.')} is a directory, not a file`));
  }
});
