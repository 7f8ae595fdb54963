import { constants } from 'node:fs';
import { readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BlockReader, BlockWriter, MAX_SEQ, decodeRecord, scanLog } from './outbox-scan.js';
import { replaceFile } from '../durable-file.js';
import { OutboxStorageError, describe, ensureDir, openOwnerOnly, refuseSymlink, tightenExisting, writeAll } from './outbox-files.js';

export { OutboxStorageError } from './outbox-files.js';
export { encodeRecord, MAX_SEQ } from './outbox-scan.js';

/** One detection waiting in the outbox: its payload is the exact JSON text that will be published. */
export interface OutboxRecord {
  seq: number;
  /** Wall-clock epoch ms when appended (informative: the age bound reads OutboxClock). */
  appendedAt: number;
  payload: string;
  /** Size of the record in the log file. */
  bytes: number;
}

/** Where a record lives in the log; the payload is read from there when it is needed. */
export interface LogEntry {
  seq: number;
  appendedAt: number;
  /** The outbox clock at append; null for records written before it existed. */
  ageClockMs: number | null;
  bytes: number;
  offset: number;
  /** Read at load for the oldest records (up to the read-ahead budget); null otherwise. */
  payload: string | null;
}

export interface Watermark {
  /** Every seq <= ackedThrough was acknowledged or dropped. */
  ackedThrough: number;
  /** The highest seq ever given, so a seq is never given twice after a compaction. */
  lastSeq: number;
  /** The outbox clock when it was written (0 in files written before the clock). */
  ageClockMs: number;
}

export interface LoadedLog extends Watermark {
  /** Unacknowledged records in seq order, one per seq. */
  entries: LogEntry[];
  /** Bytes in the log of records acknowledged but not compacted away yet. */
  deadBytes: number;
  tornRecords: number;
  duplicates: number;
  /** Said in words, naming the file: damaged records and duplicates skipped, a seq beyond the largest. */
  problems: string[];
  /** The watermark file was unreadable or impossible, and set aside: said in words, naming the file (null when fine). */
  watermarkProblem: string | null;
  /** The watermark's lastSeq was beyond the largest seq and was replaced: write it again. */
  watermarkCorrected: boolean;
  tornDetails: string[];
}

/** A record for rewrite(): copied from the current log, or written from memory. */
export type RewriteItem = { offset: number; bytes: number } | { text: string };

const WRITE_HINT = 'the outbox keeps detections there until the broker has them: make it writable by the daemon\'s user, or set state.dir to a writable directory';

/** The watermark as written, or why it cannot be trusted. */
function parseWatermark(text: string): Watermark | { problem: string } {
  if (text.trim() === '') return { problem: 'is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { problem: `is not JSON (${(err as Error).message})` };
  }
  const value = (parsed as { ackedThrough?: unknown } | null)?.ackedThrough;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return { problem: `has no whole, non-negative "ackedThrough" (got ${JSON.stringify(value) ?? 'nothing'})` };
  if (value > MAX_SEQ) return { problem: `claims ackedThrough ${value}, beyond the largest seq the outbox gives (${MAX_SEQ})` };
  // lastSeq (the highest seq ever given) came later: a file without it is an older gearhear's.
  const lastSeq = (parsed as { lastSeq?: unknown }).lastSeq ?? value;
  if (typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < value) return { problem: `has a "lastSeq" that is not a whole number at or above ackedThrough ${value} (got ${JSON.stringify(lastSeq)})` };
  const clock = (parsed as { ageClockMs?: unknown }).ageClockMs;
  const ageClockMs = typeof clock === 'number' && Number.isFinite(clock) && clock >= 0 ? clock : 0;
  return { ackedThrough: value, lastSeq, ageClockMs };
}

/**
 * The on-disk half of the outbox: an append-only log of framed records (fsync per batch) and a
 * watermark file. The log is read in blocks and compacted by streaming the records still needed
 * into a new file: memory holds offsets, not the log.
 */
export class OutboxLog {
  private fh: FileHandle | null = null;
  /** Bytes of whole records in the log: a failed append is cut back to this. */
  private size = 0;
  constructor(readonly logFile: string, readonly ackFile: string) {}

  /** `readAheadBytes`: payloads read at load for the oldest unacknowledged records, at most this many bytes. */
  async load(readAheadBytes: number): Promise<LoadedLog> {
    await this.checkUsable();
    const ackText = await this.readWatermark();
    const mark = ackText === null ? null : parseWatermark(ackText);
    const all: LogEntry[] = [];
    const tornDetails: string[] = [];
    const fh = await openOwnerOnly(this.logFile, constants.O_RDONLY, 'outbox log');
    try {
      await scanLog(fh, (p) => {
        if (!p.record) {
          tornDetails.push(`${this.logFile} line ${p.line}: ${p.terminated ? 'unreadable record' : 'unterminated (torn) record'} of ${p.size} bytes skipped`);
          return;
        }
        const { seq, appendedAt, ageClockMs } = p.record;
        all.push({ seq, appendedAt, ageClockMs, bytes: p.size + 1, offset: p.offset, payload: null });
      });
    } finally {
      await fh.close();
    }
    const tornRecords = tornDetails.length;
    all.sort((a, b) => a.seq - b.seq);
    const logMax = all.at(-1)?.seq ?? 0;
    const problems: string[] = [];
    let watermark: Watermark = { ackedThrough: 0, lastSeq: 0, ageClockMs: 0 };
    let watermarkProblem: string | null = null;
    if (mark !== null) {
      let problem = 'problem' in mark ? mark.problem : null;
      // The watermark only ever reaches a seq that was in the log; beyond the log's last record it is damage.
      if (!('problem' in mark) && all.length > 0 && mark.ackedThrough > logMax) problem = `claims ackedThrough ${mark.ackedThrough}, beyond the last record (seq ${logMax}) in ${this.logFile}`;
      if (problem !== null) watermarkProblem = await this.setAsideWatermark(problem);
      else watermark = mark as Watermark;
    }
    const watermarkCorrected = watermark.lastSeq > MAX_SEQ;
    if (watermarkCorrected) {
      const from = Math.max(watermark.ackedThrough, logMax);
      problems.push(`outbox watermark ${this.ackFile} says seq ${watermark.lastSeq} was given, beyond the largest seq the outbox gives (${MAX_SEQ}): seqs continue from ${from + 1}, after the records in ${this.logFile}`);
      watermark.lastSeq = from;
    }
    const { entries, deadBytes, duplicates } = liveEntries(all, watermark.ackedThrough);
    if (duplicates > 0) problems.push(`${duplicates} duplicate record(s) in ${this.logFile} (a seq written twice) were skipped; the first of each is kept`);
    if (tornRecords > 0) problems.push(`${tornRecords} damaged outbox record(s) in ${path.dirname(this.logFile)} were skipped (a write cut short by a crash or power loss)`);
    // Torn pieces and duplicates are compacted away. If the disk refuses, they stay: the framing keeps them apart, and reading skips them again.
    let dead = deadBytes;
    if (tornRecords > 0 || duplicates > 0) {
      try {
        const offsets = await this.rewrite(entries);
        entries.forEach((e, i) => { e.offset = offsets[i]!; });
        dead = 0;
      } catch (err) {
        tornDetails.push(`${this.logFile} could not be rewritten without them (${describe(err)}); they stay until the next compaction`);
      }
    }
    await this.readAhead(entries, readAheadBytes).catch(() => undefined); // read again when needed, and reported then
    const maxSeq = Math.max(watermark.ackedThrough, logMax, watermark.lastSeq);
    return { ...watermark, lastSeq: maxSeq, entries, deadBytes: dead, tornRecords, duplicates, problems, tornDetails, watermarkProblem, watermarkCorrected };
  }

  /**
   * Fails with a clear message unless the daemon can create files in the state directory and
   * append to the log: a read-only or foreign state directory is found at start, before anything is
   * heard. Creates what is missing owner-only, tightens looser modes, refuses symbolic links.
   */
  private async checkUsable(): Promise<void> {
    const dir = path.dirname(this.logFile);
    try {
      await ensureDir(dir);
      const probe = path.join(dir, '.gearhear-write-check');
      await unlink(probe).catch(() => undefined);
      const fh = await openOwnerOnly(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 'write check');
      await fh.close();
      await unlink(probe);
    } catch (err) {
      throw new OutboxStorageError(`state directory ${dir} is not writable (${describe(err)}): ${WRITE_HINT}`, dir, { cause: err });
    }
    await refuseSymlink(this.ackFile, 'outbox watermark');
    try {
      const fh = await openOwnerOnly(this.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 'outbox log');
      await fh.close();
      await tightenExisting(this.ackFile, 'outbox watermark');
    } catch (err) {
      if (err instanceof OutboxStorageError) throw err;
      const e = err as NodeJS.ErrnoException;
      const file = e.path ?? this.logFile;
      if (e.code === 'EISDIR') throw new OutboxStorageError(`outbox log ${this.logFile} is a directory, not a file: move it out of the way (the daemon writes its detections there)`, this.logFile, { cause: err });
      throw new OutboxStorageError(`outbox file ${file} cannot be opened for writing (${describe(err)}): ${WRITE_HINT}`, file, { cause: err });
    }
  }

  private async readWatermark(): Promise<string | null> {
    let fh: FileHandle;
    try {
      fh = await openOwnerOnly(this.ackFile, constants.O_RDONLY, 'outbox watermark');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (err instanceof OutboxStorageError) throw err;
      throw new OutboxStorageError(`cannot read outbox watermark ${this.ackFile} (${describe(err)})`, this.ackFile, { cause: err });
    }
    try {
      return await readFile(fh, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new OutboxStorageError(`outbox watermark ${this.ackFile} is a directory, not a file: move it out of the way`, this.ackFile, { cause: err });
      throw new OutboxStorageError(`cannot read outbox watermark ${this.ackFile} (${describe(err)})`, this.ackFile, { cause: err });
    } finally {
      await fh.close();
    }
  }

  /** Moves a damaged watermark aside (kept for a look) so the next start does not report it again. */
  private async setAsideWatermark(problem: string): Promise<string> {
    const aside = `${this.ackFile}.damaged`;
    const kept = await rename(this.ackFile, aside).then(() => `kept as ${aside}`, (err: unknown) => `could not be moved aside (${describe(err)})`);
    return `outbox watermark ${this.ackFile} ${problem}: replaying the whole outbox from its start (consumers dedupe by id); the damaged file ${kept}`;
  }

  /**
   * Appends records and fsyncs once. Writes as many whole records as the disk takes (a full disk
   * takes what fits) and cuts off any partial one; `written` records from the first are on disk,
   * starting at byte `offset`. Never throws: `error` says why the rest were not written.
   */
  async append(lines: readonly string[]): Promise<{ written: number; offset: number; error: Error | null }> {
    const offset = this.size;
    let fh: FileHandle;
    try {
      fh = await this.handle();
    } catch (err) {
      return { written: 0, offset, error: err as Error };
    }
    const data = Buffer.from(lines.join(''));
    let done = 0;
    let error: Error | null = null;
    try {
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done);
        if (bytesWritten <= 0) throw new Error(`write of ${this.logFile} made no progress`);
        done += bytesWritten; // a short write (a full disk at a page edge) continues until ENOSPC or done
      }
    } catch (err) {
      error = err as Error;
    }
    let written = 0;
    let wholeBytes = 0;
    for (const line of lines) {
      const n = Buffer.byteLength(line);
      if (wholeBytes + n > done) break;
      wholeBytes += n;
      written++;
    }
    if (written > 0) {
      try {
        await fh.datasync();
      } catch (err) {
        error = err as Error;
        written = wholeBytes = 0;
      }
    }
    if (wholeBytes < done) await this.cutBack(offset + wholeBytes);
    this.size = offset + wholeBytes;
    return { written, offset, error };
  }

  private async handle(): Promise<FileHandle> {
    if (this.fh) return this.fh;
    const fh = await openOwnerOnly(this.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 'outbox log');
    this.size = (await fh.stat().catch(async (err: unknown) => { await fh.close(); throw err; })).size;
    this.fh = fh;
    return fh;
  }

  /** Truncates a partly written record; if even that fails the handle is dropped (the framing still isolates it). */
  private async cutBack(size: number): Promise<void> {
    try {
      await this.fh?.truncate(size);
    } catch {
      await this.closeHandle().catch(() => undefined);
    }
  }

  /** The payloads of these records (consecutive in the log as a rule), read a block at a time. */
  async readPayloads(entries: ReadonlyArray<{ seq: number; offset: number; bytes: number }>): Promise<string[]> {
    const fh = await openOwnerOnly(this.logFile, constants.O_RDONLY, 'outbox log');
    try {
      const reader = new BlockReader(fh);
      const payloads: string[] = [];
      for (const e of entries) {
        const piece = await reader.slice(e.offset, e.bytes - 1);
        const record = decodeRecord(piece.subarray(piece[0] === 0x1e ? 1 : 0).toString('utf8'));
        if (record?.seq !== e.seq) throw new Error(`${this.logFile} does not hold seq ${e.seq} at byte ${e.offset} any more`);
        payloads.push(record.payload);
      }
      return payloads;
    } finally {
      await fh.close();
    }
  }

  /** Reads the payloads of the first entries, up to `budget` bytes of records. */
  private async readAhead(entries: LogEntry[], budget: number): Promise<void> {
    let bytes = 0;
    let n = 0;
    while (n < entries.length && (n === 0 || bytes + entries[n]!.bytes <= budget)) bytes += entries[n++]!.bytes;
    const payloads = await this.readPayloads(entries.slice(0, n));
    payloads.forEach((p, i) => { entries[i]!.payload = p; });
  }

  /** Writes the watermark atomically. Call it before rewrite() (with lastSeq) so the seq never goes back. */
  async writeWatermark(mark: Watermark): Promise<void> {
    await replaceFile(this.ackFile, (out) => writeAll(out, Buffer.from(JSON.stringify(mark) + '\n')));
  }

  /** Replaces the log with these records, in order, streamed into a new file; returns each one's new offset. */
  async rewrite(items: readonly RewriteItem[]): Promise<number[]> {
    await this.closeHandle().catch(() => undefined);
    const offsets: number[] = [];
    let size = 0;
    const source = items.some((i) => 'offset' in i) ? await openOwnerOnly(this.logFile, constants.O_RDONLY, 'outbox log') : null;
    try {
      const reader = source ? new BlockReader(source) : null;
      await replaceFile(this.logFile, async (out) => {
        const writer = new BlockWriter(out);
        for (const item of items) {
          offsets.push(size);
          const data = 'text' in item ? Buffer.from(item.text) : await reader!.slice(item.offset, item.bytes);
          await writer.write(data);
          size += data.length;
        }
        await writer.flush();
      });
    } finally {
      await source?.close();
    }
    this.size = size;
    return offsets;
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

/** Drops acknowledged records and repeated seqs (keeping the first of each); what they take in the log is dead. */
function liveEntries(sorted: LogEntry[], ackedThrough: number): { entries: LogEntry[]; deadBytes: number; duplicates: number } {
  const entries: LogEntry[] = [];
  let deadBytes = 0;
  let duplicates = 0;
  for (const e of sorted) {
    const last = entries.at(-1);
    if (e.seq <= ackedThrough) deadBytes += e.bytes;
    else if (last?.seq === e.seq) {
      duplicates++;
      deadBytes += e.bytes;
    } else entries.push(e);
  }
  return { entries, deadBytes, duplicates };
}
