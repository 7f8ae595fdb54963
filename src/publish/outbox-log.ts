import { open, readFile, rename, mkdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** One detection waiting in the outbox: its payload is the exact JSON text that will be published. */
export interface OutboxRecord {
  seq: number;
  /** Epoch ms when appended (for the age bound). */
  appendedAt: number;
  payload: string;
  /** Size of the record's line in the log file. */
  bytes: number;
}

export interface LoadedLog {
  records: OutboxRecord[];
  /** Every seq <= ackedThrough was acknowledged or dropped. */
  ackedThrough: number;
  /** Highest seq ever written (log or ack file). */
  maxSeq: number;
  tornRecords: number;
  tornDetails: string[];
}

/** `{seq, t, msg}` per line; the line is only trusted if it parses and ends with a newline. */
export function encodeRecord(seq: number, appendedAt: number, payload: string): string {
  return `{"seq":${seq},"t":${appendedAt},"msg":${payload}}\n`;
}

function decodeLine(line: string): { seq: number; t: number; msg: unknown } | null {
  try {
    const rec = JSON.parse(line) as { seq?: unknown; t?: unknown; msg?: unknown };
    if (typeof rec.seq !== 'number' || !Number.isInteger(rec.seq) || typeof rec.t !== 'number' || typeof rec.msg !== 'object' || rec.msg === null) return null;
    return { seq: rec.seq, t: rec.t, msg: rec.msg };
  } catch {
    return null;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } catch { /* some filesystems refuse fsync on a directory; the rename is still ordered */ } finally { await fh.close(); }
}

/** Writes a small file atomically: temp file, fsync, rename, fsync directory. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/**
 * The on-disk half of the outbox: an append-only JSONL log (fsync per batch) and an
 * `ackedThrough` watermark file. Compaction rewrites the log without acknowledged records.
 */
export class OutboxLog {
  private fh: FileHandle | null = null;
  constructor(readonly logFile: string, readonly ackFile: string) {}

  async load(): Promise<LoadedLog> {
    await mkdir(path.dirname(this.logFile), { recursive: true });
    let ackedThrough = 0;
    const ackText = await readFile(this.ackFile, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
    if (ackText !== null) {
      const parsed = JSON.parse(ackText) as { ackedThrough?: unknown };
      if (typeof parsed.ackedThrough !== 'number') throw new Error(`outbox ack file ${this.ackFile} has no numeric "ackedThrough"; delete it to replay the whole outbox`);
      ackedThrough = parsed.ackedThrough;
    }
    const text = await readFile(this.logFile, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    const records: OutboxRecord[] = [];
    const tornDetails: string[] = [];
    let maxSeq = ackedThrough;
    let goodLength = 0;
    let pos = 0;
    let lineNo = 0;
    while (pos < text.length) {
      lineNo++;
      const nl = text.indexOf('\n', pos);
      const line = nl === -1 ? text.slice(pos) : text.slice(pos, nl);
      const next = nl === -1 ? text.length : nl + 1;
      const rec = nl === -1 ? null : decodeLine(line);
      if (!rec) {
        tornDetails.push(`${this.logFile} line ${lineNo}: ${nl === -1 ? 'unterminated (torn) record' : 'unreadable record'} of ${Buffer.byteLength(line)} bytes skipped`);
      } else {
        maxSeq = Math.max(maxSeq, rec.seq);
        if (rec.seq > ackedThrough) {
          const payload = JSON.stringify(rec.msg);
          records.push({ seq: rec.seq, appendedAt: rec.t, payload, bytes: Buffer.byteLength(line) + 1 });
        }
        goodLength = next;
      }
      pos = next;
    }
    records.sort((a, b) => a.seq - b.seq);
    // A torn tail is cut off so the next append starts on a clean line; torn lines in the middle are rewritten away.
    if (tornDetails.length > 0) await this.rewrite(records);
    else if (goodLength < text.length) await this.rewrite(records);
    return { records, ackedThrough, maxSeq, tornRecords: tornDetails.length, tornDetails };
  }

  /** Appends records and fsyncs once for the whole batch. */
  async append(lines: string[]): Promise<void> {
    if (!this.fh) this.fh = await open(this.logFile, 'a');
    await this.fh.write(lines.join(''));
    await this.fh.datasync();
  }

  async writeAcked(ackedThrough: number): Promise<void> {
    await writeFileAtomic(this.ackFile, JSON.stringify({ ackedThrough }) + '\n');
  }

  /** Replaces the log with just these records. Call writeAcked first so the seq never goes back. */
  async rewrite(records: readonly OutboxRecord[]): Promise<void> {
    await this.closeHandle();
    await writeFileAtomic(this.logFile, records.map((r) => encodeRecord(r.seq, r.appendedAt, r.payload)).join(''));
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}
