/**
 * `npm run bench:outbox [-- --mb 20,49] [--heap-mb 160]`: peak resident memory (VmHWM) of opening
 * and draining an outbox of the given sizes, in a Node process limited as the systemd unit limits
 * the daemon (`--max-old-space-size=160`). The outbox bound (outbox.maxBytes, 50 MB by default)
 * must fit the 300 MB budget with the rest of the daemon (issue 21, item 12).
 * Prints a table; writes JSON to bench/results/outbox-memory-<timestamp>.json.
 */
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execFileAsync, formatTable, repoRoot } from './lib/common.js';

const CHILD = path.join(repoRoot, 'dist/bench/outbox-memory-child.js');
const CHUNK_RECORDS = 2000;

/** A detection as the publisher writes it (about 400 bytes), framed as the outbox frames it. */
function record(seq: number, t: number): string {
  const msg = {
    id: `dev1-${seq.toString(36)}-3fa2c1e0`, seq, deviceId: 'dev1', siteId: 'hall-3', term: 'oil leak', category: 'leak', severity: 'high',
    confidence: 0.71, threshold: 0.5, start: 7.46, end: 8.02, segmentId: `3fa2c1-${seq}@118272`, timestamp: new Date(t).toISOString(),
    model: { id: 'phone-ctc', version: '1.4.0' }, vocabularyVersion: 'b7e1f09a2c44', levelDbfs: -24.1, clipId: null,
  };
  return `\u001e{"seq":${seq},"t":${t},"msg":${JSON.stringify(msg)}}\n`;
}

async function writeOutbox(dir: string, bytes: number): Promise<number> {
  const fh = await open(path.join(dir, 'outbox.jsonl'), 'w');
  const t = Date.now();
  let written = 0;
  let seq = 0;
  try {
    while (written < bytes) {
      const lines: string[] = [];
      for (let i = 0; i < CHUNK_RECORDS && written < bytes; i++) {
        const line = record(++seq, t);
        written += Buffer.byteLength(line);
        lines.push(line);
      }
      await fh.write(lines.join(''));
    }
  } finally {
    await fh.close();
  }
  return seq;
}

async function drain(dir: string, heapMb: number): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [`--max-old-space-size=${heapMb}`, CHILD, dir], { maxBuffer: 1 << 20 });
    return { exit: 0, ...(JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>) };
  } catch (err) {
    const e = err as { code?: number; signal?: string; stderr?: string };
    return { exit: e.code ?? e.signal ?? 'failed', error: (e.stderr ?? '').trim().split('\n').slice(-2).join(' ') };
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { mb: { type: 'string' }, 'heap-mb': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('node dist/bench/outbox-memory.js [--mb 20,49] [--heap-mb 160]\n');
    return 0;
  }
  const sizes = (values.mb ?? '20,49').split(',').map(Number);
  const heapMb = Number(values['heap-mb'] ?? 160);
  const rows: Array<Record<string, unknown>> = [];
  for (const mb of sizes) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-bench-outbox-'));
    try {
      const records = await writeOutbox(dir, mb * 1_000_000);
      process.stderr.write(`bench:outbox: ${mb} MB, ${records} records, draining under --max-old-space-size=${heapMb}\n`);
      rows.push({ mb, records, heapMb, ...(await drain(dir, heapMb)) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(formatTable([
    ['outbox MB', 'records', 'exit', 'peak RSS MB', 'after open MB', 'open s', 'drain s'],
    ...rows.map((r) => [Number(r.mb), Number(r.records), String(r.exit), Number(r.peakMb ?? NaN), Number(r.afterOpenMb ?? NaN), Number(r.openSec ?? NaN), Number(r.drainSec ?? NaN)]),
  ]) + '\n');
  const out = path.join(repoRoot, 'bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `outbox-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
  return rows.every((r) => r.exit === 0) ? 0 : 1;
}

process.exitCode = await main();
