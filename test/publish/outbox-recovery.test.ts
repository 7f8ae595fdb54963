/**
 * Recovering from what a fault campaign left behind (issue 21): a watermark with seqs past 2^53,
 * duplicate seqs in the log, a disk that frees only a little room, and what is said at stop when
 * the disk is full and the broker away. Real files, a real small tmpfs that fills up.
 */
import t from 'tap';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Outbox, describeUndelivered } from '../../src/publish/outbox.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { fillDisk, smallTmpfs, tempDir, waitFor } from './helpers.js';

const limits = { maxBytes: 1024 * 1024, maxAgeMs: 3600_000 };

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string, f?: Record<string, unknown>): void => { lines.push(`${level} ${m} ${JSON.stringify(f ?? {})}`); };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function pendingSeqs(box: Outbox): number[] {
  const out: number[] = [];
  for (let r = box.firstAfter(0); r; r = box.firstAfter(r.seq)) out.push(r.seq);
  return out;
}

async function appendN(box: Outbox, n: number, pad = 0): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const { seq, stored } = box.append((s) => ({ seq: s, term: `t${i}`, pad: 'x'.repeat(pad) }));
    seqs.push(seq);
    await stored;
  }
  return seqs;
}

t.test('a watermark whose lastSeq nears 2^53: seqs continue safely after the records on disk, with a warning, and none is lost', async (t) => {
  const dir = await tempDir(t);
  const first = await Outbox.open({ dir, ...limits, logger: silentLogger });
  await appendN(first, 3);
  await first.close();
  const ackFile = path.join(dir, 'outbox.ack.json');
  await writeFile(ackFile, '{"ackedThrough":0,"lastSeq":9007199254740000}\n');
  const logger = recordingLogger();
  const box = await Outbox.open({ dir, ...limits, logger, ackFlushMs: 10 });
  t.match(box.openProblems.join('\n'), new RegExp(`outbox watermark ${ackFile} says seq 9007199254740000 was given, beyond the largest seq the outbox gives \\(1125899906842624\\): seqs continue from 4`));
  t.match(logger.lines.join('\n'), /warn outbox: outbox watermark .* beyond the largest seq/);
  const seqs = await appendN(box, 1050);
  t.ok(seqs.every(Number.isSafeInteger), 'every new seq is an exact integer');
  t.same([seqs[0], seqs.at(-1)], [4, 1053]);
  await box.close();
  const mark = JSON.parse(await readFile(ackFile, 'utf8')) as { lastSeq: number };
  t.equal(mark.lastSeq, 1053, 'the watermark on disk is corrected');
  const again = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.equal(again.depth, 1053, 'all 1,053 detections read back after the restart');
  t.equal(again.stats().tornRecords, 0);
  t.same(again.openProblems, [], 'reported once, not at every start');
  t.same(await appendN(again, 1), [1054], 'and seq keeps increasing');
  await again.close();
});

t.test('duplicate seqs in the log: the first of each is kept, and acknowledging them all drains the outbox', async (t) => {
  const dir = await tempDir(t);
  const now = Date.now();
  const rec = (seq: number, term: string): string => `\u001e{"seq":${seq},"t":${now},"msg":{"seq":${seq},"term":"${term}"}}\n`;
  await writeFile(path.join(dir, 'outbox.jsonl'), rec(1, 'a') + rec(2, 'b') + rec(2, 'b-again') + rec(3, 'c') + rec(3, 'c-again') + rec(4, 'd'));
  const logger = recordingLogger();
  const box = await Outbox.open({ dir, ...limits, logger });
  t.same(pendingSeqs(box), [1, 2, 3, 4]);
  t.equal(JSON.parse(box.firstAfter(1)!.payload).term, 'b', 'the first copy is the one sent');
  t.match(box.openProblems.join('\n'), /2 duplicate record\(s\) in .*outbox\.jsonl \(a seq written twice\) were skipped/);
  for (const seq of [1, 2, 3, 4]) box.ack(seq);
  t.equal(box.depth, 0, 'drained');
  await box.close();
  t.match(JSON.parse(await readFile(path.join(dir, 'outbox.ack.json'), 'utf8')), { ackedThrough: 4 }, 'the watermark advanced past them');
  const again = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.equal(again.depth, 0, 'nothing is sent again after a restart');
  await again.close();
});

t.test('after a full disk, a little freed room takes as many held detections as fit; the rest stay held', async (t) => {
  const dir = await smallTmpfs(t, 256);
  const logger = recordingLogger();
  const box = await Outbox.open({ dir, ...limits, logger, retryMs: 50 });
  await appendN(box, 1);
  await fillDisk(dir);
  await appendN(box, 20, 5000); // 100 KB held in memory; each more than the rest of the log's last page
  t.equal(box.stats().inMemory, 20);
  const filler = path.join(dir, 'filler');
  await truncate(filler, (await stat(filler)).size - 12 * 1024); // room for a few of them, not for all
  await waitFor('some written', () => box.stats().inMemory < 20, 5000);
  const held = box.stats().inMemory;
  t.ok(held > 0 && held < 20, `some reached the disk, ${held} still held`);
  t.match(logger.lines.join('\n'), /info outbox: the disk took some of the detections held in memory/);
  t.equal(box.stats().depth, 21, 'nothing lost');
  await truncate(filler, 0);
  await waitFor('the rest written', () => box.stats().inMemory === 0, 5000);
  await box.close();
  const again = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingSeqs(again), Array.from({ length: 21 }, (_, i) => i + 1), 'all 21 on disk, in order');
  t.equal(again.stats().tornRecords, 0, 'no partial record');
  await again.close();
});

t.test('disk full and broker down at stop: what stays and what is lost is said consistently', async (t) => {
  const dir = await smallTmpfs(t);
  const logger = recordingLogger();
  const box = await Outbox.open({ dir, ...limits, logger, retryMs: 60_000 });
  await appendN(box, 2);
  await fillDisk(dir);
  await appendN(box, 3, 5000);
  const said = describeUndelivered(box.stats());
  t.equal(said, '2 on disk stay in the outbox for the next start; 3 held only in memory (the disk refused them) are written at stop if the disk takes them, otherwise lost');
  t.equal(describeUndelivered({ depth: 4, inMemory: 0 }), 'they stay in the outbox for the next start');
  await box.close();
  t.match(logger.lines.join('\n'), /error outbox: 3 detection\(s\) never reached the disk or the broker and are lost; 2 stay in the outbox for the next start .*"error":"ENOSPC.*"seqs":\[3,4,5\]/);
  const again = await Outbox.open({ dir: await tempDir(t), ...limits, logger: silentLogger }); // the full disk cannot open another
  await again.close();
  await truncate(path.join(dir, 'filler'), 0);
  const reopened = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingSeqs(reopened), [1, 2], 'the two on disk did stay');
  await reopened.close();
});
