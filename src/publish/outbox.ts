import path from 'node:path';
import { backoffDelayMs } from '../backoff.js';
import type { Logger } from '../log.js';
import { OutboxLog, encodeRecord, type OutboxRecord } from './outbox-log.js';
import type { OutboxLimits, OutboxStats } from './types.js';

export type { OutboxRecord } from './outbox-log.js';
export { OutboxStorageError } from './outbox-log.js';

export type DropReason = 'size' | 'age' | 'memory';

export interface OutboxOptions extends OutboxLimits {
  /** Directory holding `outbox.jsonl` and `outbox.ack.json`. */
  dir: string;
  logger: Logger;
  /** Rewrite the log once this many acknowledged bytes sit at its head (default 256 KiB). */
  compactAfterBytes?: number;
  /** How long acknowledgements may wait before the watermark is written (default 1 s). */
  ackFlushMs?: number;
  /** Detections the disk refused that are held in memory at most (default 1000); beyond, the oldest are dropped and counted. */
  memoryMaxRecords?: number;
  /** First wait before the disk is tried again for detections held in memory (default 1 s, doubling to 30 s). */
  retryMs?: number;
  /** Clock for the age bound; tests pass a fake one. */
  now?: () => number;
  /** Told about records the bounds dropped (the publisher forgets them as in-flight). */
  onDrop?: (seqs: number[], reason: DropReason) => void;
}

/** Where an appended record ended up: on disk (fsynced), or only in memory because the disk refused it. */
export type Stored = { durable: true } | { durable: false; error: Error; inMemory: number };

interface Held extends OutboxRecord {
  /** False while the disk refused it: it lives only in memory and is retried. */
  onDisk: boolean;
}

const DEFAULT_COMPACT_AFTER_BYTES = 256 * 1024;
const DEFAULT_ACK_FLUSH_MS = 1000;
const DEFAULT_MEMORY_MAX_RECORDS = 1000;
const DEFAULT_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Durable, bounded, ordered store of detections not yet acknowledged by the broker.
 * append() resolves once the record is fsynced, or once the disk refused it and it is held in
 * memory (bounded) and retried; ack() removes it; reopen replays what is left. Bounds drop the
 * oldest records first and count them. close() never throws: it logs what it could not do.
 */
export class Outbox {
  private readonly log: OutboxLog;
  private records: Held[] = [];
  private readonly acked = new Set<number>();
  private ackedThrough = 0;
  private persistedAckedThrough = 0;
  /** The lastSeq in the watermark file: records up to it may leave the log. */
  private persistedLastSeq = 0;
  private nextSeqValue = 1;
  private pendingBytes = 0;
  private deadBytesInLog = 0;
  private counters = { droppedBySize: 0, droppedByAge: 0, droppedFromMemory: 0, tornRecords: 0, writeFailures: 0 };
  private batch: Array<{ record: Held; resolve: (s: Stored) => void }> = [];
  private writing: Promise<void> = Promise.resolve();
  private ackTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Retries since the disk last took a write: the back-off doubles from retryMs up to MAX_RETRY_MS. */
  private retryFailures = 0;
  /** The last write failed: records may wait in memory and a retry is due. */
  private refused = false;
  private closed = false;
  private readonly now: () => number;
  /** Said once at open: damaged records skipped, a watermark that could not be trusted. */
  readonly openProblems: string[] = [];

  private constructor(private readonly opts: OutboxOptions) {
    this.log = new OutboxLog(path.join(opts.dir, 'outbox.jsonl'), path.join(opts.dir, 'outbox.ack.json'));
    this.now = opts.now ?? Date.now;
  }

  /** Throws OutboxStorageError (exit code 78) when the state directory or its files cannot be used. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    if (!(opts.maxBytes > 0) || !(opts.maxAgeMs > 0)) throw new Error(`outbox limits must be positive (maxBytes=${opts.maxBytes}, maxAgeMs=${opts.maxAgeMs})`);
    const box = new Outbox(opts);
    const loaded = await box.log.load();
    for (const detail of loaded.tornDetails) opts.logger.warn('outbox: skipped a damaged record', { detail });
    if (loaded.tornRecords > 0) box.openProblems.push(`${loaded.tornRecords} damaged outbox record(s) in ${opts.dir} were skipped (a write cut short by a crash or power loss)`);
    if (loaded.watermarkProblem) {
      opts.logger.error('outbox: damaged watermark', { file: box.log.ackFile, detail: loaded.watermarkProblem });
      box.openProblems.push(loaded.watermarkProblem);
    }
    box.records = loaded.records.map((r) => ({ ...r, onDisk: true }));
    box.ackedThrough = box.persistedAckedThrough = loaded.ackedThrough;
    box.nextSeqValue = loaded.maxSeq + 1;
    box.persistedLastSeq = loaded.maxSeq;
    box.counters.tornRecords = loaded.tornRecords;
    box.pendingBytes = loaded.records.reduce((n, r) => n + r.bytes, 0);
    box.enforceBounds();
    return box;
  }

  get logFile(): string { return this.log.logFile; }

  /** Assigns the next seq, builds the payload with it; `stored` never rejects (see Stored). */
  append(build: (seq: number) => object): { seq: number; stored: Promise<Stored> } {
    if (this.closed) throw new Error('outbox is closed');
    const seq = this.nextSeqValue++;
    const appendedAt = this.now();
    const payload = JSON.stringify(build(seq));
    const record: Held = { seq, appendedAt, payload, bytes: Buffer.byteLength(encodeRecord(seq, appendedAt, payload)), onDisk: false };
    const stored = new Promise<Stored>((resolve) => this.batch.push({ record, resolve }));
    if (this.batch.length === 1) this.queueWrite(() => this.flushBatch());
    return { seq, stored };
  }

  /** Oldest unacknowledged record with seq > afterSeq (binary search), after applying the age bound. */
  firstAfter(afterSeq: number): OutboxRecord | undefined {
    this.enforceBounds();
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.records[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    while (lo < this.records.length && this.acked.has(this.records[lo]!.seq)) lo++;
    return this.records[lo];
  }

  /** The broker acknowledged this seq: forget it (the watermark is written shortly after). */
  ack(seq: number): void {
    if (!this.records.some((r) => r.seq === seq)) return; // already dropped by a bound, or acknowledged twice
    this.acked.add(seq);
    this.advanceWatermark();
  }

  get depth(): number { return this.records.length - this.acked.size; }

  stats(): OutboxStats {
    const unacked = this.records.filter((r) => !this.acked.has(r.seq));
    const c = this.counters;
    return {
      depth: unacked.length,
      bytes: unacked.reduce((n, r) => n + r.bytes, 0),
      inMemory: unacked.filter((r) => !r.onDisk).length,
      dropped: c.droppedBySize + c.droppedByAge + c.droppedFromMemory,
      droppedBySize: c.droppedBySize,
      droppedByAge: c.droppedByAge,
      droppedFromMemory: c.droppedFromMemory,
      writeFailures: c.writeFailures,
      tornRecords: c.tornRecords,
      oldestSeq: unacked[0]?.seq ?? null,
      nextSeq: this.nextSeqValue,
    };
  }

  /**
   * Last try for records held in memory, then the watermark and compaction, then the file. Never
   * throws: each step that fails is logged and the next still runs. What is not acknowledged stays.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of [this.ackTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    this.ackTimer = this.retryTimer = null;
    await this.writing;
    const logger = this.opts.logger;
    let watermarkWritten = true;
    await this.writeWatermark().catch((err: unknown) => {
      watermarkWritten = false;
      logger.error('outbox: could not write the acknowledged watermark at close; acknowledged detections will be sent again after restart', { file: this.log.ackFile, error: (err as Error).message });
    });
    if (this.memoryOnly().length > 0) {
      await this.writeMemoryOnly().catch((err: unknown) => logger.error('outbox: could not write the detections held in memory at close', { file: this.log.logFile, error: (err as Error).message }));
    }
    if (watermarkWritten) {
      await this.compact(true).catch((err: unknown) => logger.error('outbox: could not compact the log at close', { file: this.log.logFile, error: (err as Error).message }));
    }
    const lost = this.memoryOnly();
    if (lost.length > 0) {
      logger.error(`outbox: ${lost.length} detection(s) never reached the disk or the broker and are lost`, { file: this.log.logFile, seqs: lost.map((r) => r.seq) });
    }
    await this.log.close().catch((err: unknown) => logger.error('outbox: could not close the log', { file: this.log.logFile, error: (err as Error).message }));
  }

  /** Work on the file runs one step at a time; a step never rejects, so the chain never stalls. */
  private queueWrite(step: () => Promise<void>): void {
    this.writing = this.writing.then(step).catch((err: unknown) => {
      this.opts.logger.error('outbox: unexpected failure', { error: (err as Error).message });
    });
  }

  private memoryOnly(): Held[] {
    return this.records.filter((r) => !r.onDisk && !this.acked.has(r.seq));
  }

  /** Writes the new batch after anything held in memory, in seq order; on failure they all wait in memory. */
  private async flushBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    let failure: Error | null = null;
    try {
      await this.writeMemoryOnly(batch.map((b) => b.record));
    } catch (err) {
      failure = err as Error;
    }
    for (const b of batch) {
      this.records.push(b.record);
      this.pendingBytes += b.record.bytes;
    }
    this.enforceBounds();
    if (failure) this.enforceMemoryBound();
    const inMemory = this.memoryOnly().length;
    for (const b of batch) {
      if (!failure) b.resolve({ durable: true });
      else b.resolve({ durable: false, error: new Error(`could not write the outbox ${this.log.logFile}: ${failure.message}`, { cause: failure }), inMemory });
    }
  }

  /** Appends what is held in memory, then `fresh` (not yet in `records`); marks them on disk, or throws. */
  private async writeMemoryOnly(fresh: Held[] = []): Promise<void> {
    const pending = [...this.memoryOnly(), ...fresh];
    if (pending.length === 0) return;
    try {
      await this.log.append(pending.map((r) => encodeRecord(r.seq, r.appendedAt, r.payload)));
    } catch (err) {
      this.counters.writeFailures++;
      this.refused = true;
      this.scheduleRetry();
      throw err;
    }
    for (const r of pending) r.onDisk = true;
    this.onWritten(pending.length - fresh.length);
  }

  /** The disk took a write: if it had refused before, say so and stop the retry timer. */
  private onWritten(fromMemory: number): void {
    if (!this.refused) return;
    this.refused = false;
    this.opts.logger.info('outbox: the disk takes detections again', { writtenFromMemory: fromMemory });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryFailures = 0;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    const first = this.opts.retryMs ?? DEFAULT_RETRY_MS;
    const delay = backoffDelayMs(this.retryFailures++, { minDelayMs: first, maxDelayMs: Math.max(first, MAX_RETRY_MS) });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.queueWrite(() => this.writeMemoryOnly().catch((err: unknown) => {
        this.opts.logger.warn('outbox: the disk still refuses the detections held in memory; trying again', { file: this.log.logFile, inMemory: this.memoryOnly().length, error: (err as Error).message });
      }));
    }, delay);
    this.retryTimer.unref();
  }

  /** Drops acknowledged records at the head; dead bytes on disk count toward compaction. */
  private advanceWatermark(): void {
    let removed = 0;
    while (removed < this.records.length) {
      const head = this.records[removed]!;
      if (!this.acked.has(head.seq)) break;
      this.acked.delete(head.seq);
      this.forget(head);
      this.ackedThrough = head.seq;
      removed++;
    }
    if (removed > 0) this.records.splice(0, removed);
    if (removed > 0) this.scheduleAckFlush();
  }

  private forget(r: Held): void {
    this.pendingBytes -= r.bytes;
    if (r.onDisk) this.deadBytesInLog += r.bytes;
  }

  private enforceBounds(): void {
    const tooOld = this.now() - this.opts.maxAgeMs;
    const byAge: number[] = [];
    while (this.records.length > 0 && this.records[0]!.appendedAt < tooOld) byAge.push(this.dropHead());
    const bySize: number[] = [];
    while (this.records.length > 1 && this.pendingBytes > this.opts.maxBytes) bySize.push(this.dropHead());
    this.report(byAge, 'age');
    this.report(bySize, 'size');
  }

  /** Beyond the memory bound, the oldest records the disk refused are dropped (and counted). */
  private enforceMemoryBound(): void {
    const memoryMax = this.opts.memoryMaxRecords ?? DEFAULT_MEMORY_MAX_RECORDS;
    const inMemory = this.memoryOnly();
    const overflow = inMemory.slice(0, Math.max(0, inMemory.length - memoryMax));
    for (const r of overflow) {
      this.records.splice(this.records.indexOf(r), 1);
      this.forget(r);
    }
    this.report(overflow.map((r) => r.seq), 'memory');
  }

  private dropHead(): number {
    const head = this.records.shift()!;
    this.forget(head);
    if (this.acked.delete(head.seq)) return -1; // was acknowledged already: not a loss
    this.ackedThrough = Math.max(this.ackedThrough, head.seq);
    return head.seq;
  }

  private report(seqs: number[], reason: DropReason): void {
    const lost = seqs.filter((s) => s >= 0);
    if (seqs.length > 0 && reason !== 'memory') this.advanceWatermark();
    if (lost.length === 0) return;
    const bound = { size: this.opts.maxBytes, age: this.opts.maxAgeMs, memory: this.opts.memoryMaxRecords ?? DEFAULT_MEMORY_MAX_RECORDS }[reason];
    if (reason === 'size') this.counters.droppedBySize += lost.length;
    else if (reason === 'age') this.counters.droppedByAge += lost.length;
    else this.counters.droppedFromMemory += lost.length;
    this.opts.logger.warn(`outbox: dropped the ${lost.length} oldest detection(s) over the ${reason} bound`, { firstSeq: lost[0], lastSeq: lost[lost.length - 1], bound });
    if (reason !== 'memory') this.scheduleAckFlush();
    this.opts.onDrop?.(lost, reason);
  }

  private scheduleAckFlush(): void {
    if (this.ackTimer || this.closed) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.queueWrite(() => this.persist().catch((err: unknown) => {
        this.opts.logger.error('outbox: could not write the acknowledged watermark', { file: this.log.ackFile, error: (err as Error).message });
      }));
    }, this.opts.ackFlushMs ?? DEFAULT_ACK_FLUSH_MS);
    this.ackTimer.unref();
  }

  /** Watermark first, then compaction, so the seq can never go backwards after a crash. */
  private async persist(): Promise<void> {
    await this.writeWatermark();
    await this.compact(false);
  }

  private async writeWatermark(): Promise<void> {
    if (this.ackedThrough === this.persistedAckedThrough) return;
    await this.writeWatermarkNow();
  }

  private async writeWatermarkNow(): Promise<void> {
    const lastSeq = this.nextSeqValue - 1;
    await this.log.writeAcked(this.ackedThrough, lastSeq);
    this.persistedAckedThrough = this.ackedThrough;
    this.persistedLastSeq = lastSeq;
  }

  /** Rewrites the log with the unacknowledged records (those held in memory too, which puts them on disk). */
  private async compact(force: boolean): Promise<void> {
    const limit = this.opts.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    const empty = this.records.length === 0 && this.deadBytesInLog > 0;
    if (!(this.deadBytesInLog > 0 && (force || empty || this.deadBytesInLog >= limit))) return;
    // The newest records may go (acknowledged out of order): the watermark remembers their seqs first.
    if (this.persistedLastSeq < this.nextSeqValue - 1) await this.writeWatermarkNow();
    const keep = this.records.filter((r) => !this.acked.has(r.seq));
    const fromMemory = keep.filter((r) => !r.onDisk).length;
    await this.log.rewrite(keep);
    for (const r of keep) r.onDisk = true;
    this.deadBytesInLog = 0;
    this.onWritten(fromMemory);
  }
}
