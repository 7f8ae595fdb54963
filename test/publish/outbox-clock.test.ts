/**
 * The age bound counts the time the daemon ran with a detection waiting, by a monotonic clock: a
 * wall clock that jumps (a Raspberry Pi without RTC booting on a stale time, then NTP) must never
 * drop an undelivered detection (issue 21, item 10).
 */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Outbox } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/log.js';
import { tempDir, waitFor } from './helpers.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const limits = { maxBytes: 1e6, maxAgeMs: 7 * DAY };

async function appendN(box: Outbox, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const result = await box.append((seq) => ({ seq, term: `t${i}` })).stored;
    if (!result.durable) throw result.error;
  }
}

function pendingSeqs(box: Outbox): number[] {
  const out: number[] = [];
  for (let r = box.firstAfter(0); r; r = box.firstAfter(r.seq)) out.push(r.seq);
  return out;
}

t.test('the wall clock jumps 10 days forward while the broker is down: nothing is dropped, in this run or the next', async (t) => {
  const dir = await tempDir(t);
  let wall = Date.parse('2024-03-01T08:00:00Z'); // the stale time the Pi booted with
  let monotonic = 40_000;
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, now: () => wall, monotonicNow: () => monotonic });
  await appendN(box, 5);
  wall += 10 * DAY; // NTP corrects the clock a minute later
  monotonic += 60_000;
  await appendN(box, 2);
  t.same(pendingSeqs(box), [1, 2, 3, 4, 5, 6, 7], 'all seven still wait');
  t.equal(box.stats().droppedByAge, 0);
  await box.close();

  let monotonic2 = 7_000; // a new process (or a reboot): the monotonic clock starts elsewhere
  const again = await Outbox.open({ dir, ...limits, logger: silentLogger, now: () => wall, monotonicNow: () => monotonic2 });
  t.same(pendingSeqs(again), [1, 2, 3, 4, 5, 6, 7], 'the restart judges age by the time the daemon ran, not by the records\' wall-clock stamps');
  monotonic2 += 7 * DAY - 2 * 60_000;
  t.equal(again.depth, 7, 'still within the bound after a minute short of 7 days of running');
  monotonic2 += 2 * 60_000 + 1;
  t.same(pendingSeqs(again), [], 'the bound still holds: 7 days of waiting, counted over both runs, drops them');
  t.equal(again.stats().droppedByAge, 7);
  await again.close();
});

t.test('records stamped by a run whose clock was 10 days behind are kept at the next start (the real clock)', async (t) => {
  const dir = await tempDir(t);
  const stale = Date.now() - 10 * DAY;
  const rec = (seq: number): string => `\u001e{"seq":${seq},"t":${stale},"msg":{"seq":${seq},"term":"stale${seq}"}}\n`;
  await writeFile(path.join(dir, 'outbox.jsonl'), rec(1) + rec(2) + rec(3));
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.same(pendingSeqs(box), [1, 2, 3], 'a wall-clock age of 10 days alone drops nothing');
  t.equal(box.stats().dropped, 0);
  await box.close();
});

t.test('the age clock is saved while detections wait, so a crash does not make them young again', async (t) => {
  const dir = await tempDir(t);
  let monotonic = 0;
  const crashed = await Outbox.open({ dir, ...limits, logger: silentLogger, monotonicNow: () => monotonic, clockSaveMs: 10 });
  t.teardown(() => crashed.close());
  await appendN(crashed, 2);
  monotonic += 5 * DAY;
  const ackFile = path.join(dir, 'outbox.ack.json');
  const saved = async (): Promise<number> => ((JSON.parse(await readFile(ackFile, 'utf8').catch(() => '{}')) as { ageClockMs?: number }).ageClockMs ?? 0);
  let last = 0;
  const poll = setInterval(() => void saved().then((v) => { last = v; }), 5);
  await waitFor('the periodic save', () => last >= 5 * DAY, 5000);
  clearInterval(poll);
  // kill -9 here: the first outbox is never closed. The next start counts on from the save.
  let monotonic2 = 0;
  const next = await Outbox.open({ dir, ...limits, logger: silentLogger, monotonicNow: () => monotonic2 });
  t.equal(next.depth, 2);
  monotonic2 += 2 * DAY + 1;
  t.same(pendingSeqs(next), [], '5 days before the crash and 2 after: over the 7-day bound');
  await next.close();
});
