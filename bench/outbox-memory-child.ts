/**
 * Child of bench/outbox-memory.ts: opens the outbox in `dir`, drains it as the publisher does
 * (oldest first, each record acknowledged), closes it, and prints one JSON line with its peak
 * resident memory (VmHWM). Run under `--max-old-space-size` to see whether it fits.
 */
import { readFile } from 'node:fs/promises';
import { Outbox } from '../src/publish/outbox.js';
import { silentLogger } from '../src/log.js';

const POLL_MS = 1;

async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: outbox-memory-child.js DIR');
  const started = Date.now();
  const box = await Outbox.open({ dir, maxBytes: 50_000_000, maxAgeMs: 7 * 24 * 3600_000, logger: silentLogger });
  const openedAt = Date.now();
  const depth = box.depth;
  const afterOpenMb = await peakRssMb();
  let cursor = 0;
  let sent = 0;
  while (box.depth > 0) {
    const record = box.firstAfter(cursor);
    if (!record) {
      await new Promise((r) => setTimeout(r, POLL_MS)); // the next records are still being read from disk
      continue;
    }
    cursor = record.seq;
    sent += record.payload.length > 0 ? 1 : 0;
    box.ack(record.seq);
    if (sent % 500 === 0) await new Promise((r) => setImmediate(r)); // let watermark writes and compaction run, as they would between PUBACKs
  }
  await box.close();
  process.stdout.write(JSON.stringify({ depth, sent, openSec: (openedAt - started) / 1000, drainSec: (Date.now() - openedAt) / 1000, afterOpenMb, peakMb: await peakRssMb() }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
