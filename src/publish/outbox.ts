import path from 'node:path';
import type { Logger } from '../log.js';
import { OutboxLog, encodeRecord, type OutboxRecord } from './outbox-log.js';
import type { OutboxLimits, OutboxStats } from './types.js';

export type { OutboxRecord } from './outbox-log.js';

export interface OutboxOptions extends OutboxLimits {
  /** Directory holding `outbox.jsonl` and `outbox.ack.json`. */
  dir: string;
  logger: Logger;
  /** Rewrite the log once this many acknowledged bytes sit at its head (default 256 KiB). */
  compactAfterBytes?: number;
  /** How long acknowledgements may wait before the watermark is written (default 1 s). */
  ackFlushMs?: number;
  /** Clock for the age bound; tests pass a fake one. */
  now?: () => number;
  /** Told about records the bounds dropped (the publisher forgets them as in-flight). */
  onDrop?: (seqs: number[], reason: 'size' | 'age') => void;
}

const DEFAULT_COMPACT_AFTER_BYTES = 256 * 1024;
const DEFAULT_ACK_FLUSH_MS = 1000;

/**
 * Durable, bounded, ordered store of detections not yet acknowledged by the broker.
 * append() resolves once the record is fsynced; ack() removes it; reopen replays what is left.
 * Bounds drop the oldest records first and count them.
 */
export class Outbox {
  private readonly log: OutboxLog;
  private records: OutboxRecord[] = [];
  private readonly acked = new Set<number>();
  private ackedThrough = 0;
  private persistedAckedThrough = 0;
  private nextSeqValue = 1;
  private pendingBytes = 0;
  private deadBytesInLog = 0;
  private counters = { droppedBySize: 0, droppedByAge: 0, tornRecords: 0 };
  private batch: Array<{ record: OutboxRecord; line: string; resolve: () => void; reject: (e: unknown) => void }> = [];
  private writing: Promise<void> = Promise.resolve();
  private ackTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly now: () => number;

  private constructor(private readonly opts: OutboxOptions) {
    this.log = new OutboxLog(path.join(opts.dir, 'outbox.jsonl'), path.join(opts.dir, 'outbox.ack.json'));
    this.now = opts.now ?? Date.now;
  }

  static async open(opts: OutboxOptions): Promise<Outbox> {
    if (!(opts.maxBytes > 0) || !(opts.maxAgeMs > 0)) throw new Error(`outbox limits must be positive (maxBytes=${opts.maxBytes}, maxAgeMs=${opts.maxAgeMs})`);
    const box = new Outbox(opts);
    const loaded = await box.log.load();
    for (const detail of loaded.tornDetails) opts.logger.warn('outbox: skipped a damaged record', { detail });
    box.records = loaded.records;
    box.ackedThrough = box.persistedAckedThrough = loaded.ackedThrough;
    box.nextSeqValue = loaded.maxSeq + 1;
    box.counters.tornRecords = loaded.tornRecords;
    box.pendingBytes = loaded.records.reduce((n, r) => n + r.bytes, 0);
    box.enforceBounds();
    return box;
  }

  /** Assigns the next seq, builds the payload with it, and resolves once it is on disk. */
  append(build: (seq: number) => object): { seq: number; durable: Promise<void> } {
    if (this.closed) throw new Error('outbox is closed');
    const seq = this.nextSeqValue++;
    const appendedAt = this.now();
    const payload = JSON.stringify(build(seq));
    const line = encodeRecord(seq, appendedAt, payload);
    const record: OutboxRecord = { seq, appendedAt, payload, bytes: Buffer.byteLength(line) };
    const durable = new Promise<void>((resolve, reject) => this.batch.push({ record, line, resolve, reject }));
    if (this.batch.length === 1) this.writing = this.writing.then(() => this.flushBatch());
    return { seq, durable };
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
    const index = this.records.findIndex((r) => r.seq === seq);
    if (index === -1) return; // already dropped by a bound, or acknowledged twice
    this.acked.add(seq);
    this.advanceWatermark();
  }

  get depth(): number { return this.records.length - this.acked.size; }

  stats(): OutboxStats {
    const unacked = this.records.filter((r) => !this.acked.has(r.seq));
    return {
      depth: unacked.length,
      bytes: unacked.reduce((n, r) => n + r.bytes, 0),
      dropped: this.counters.droppedBySize + this.counters.droppedByAge,
      droppedBySize: this.counters.droppedBySize,
      droppedByAge: this.counters.droppedByAge,
      tornRecords: this.counters.tornRecords,
      oldestSeq: unacked[0]?.seq ?? null,
      nextSeq: this.nextSeqValue,
    };
  }

  /** Writes the watermark, compacts, and closes the file. Records not acknowledged stay for next time. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    await this.writing;
    await this.persist(true);
    await this.log.close();
  }

  private async flushBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    try {
      await this.log.append(batch.map((b) => b.line));
    } catch (err) {
      for (const b of batch) b.reject(new Error(`could not write the outbox ${this.log.logFile}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    for (const b of batch) {
      this.records.push(b.record);
      this.pendingBytes += b.record.bytes;
    }
    this.enforceBounds();
    for (const b of batch) b.resolve();
  }

  /** Drops acknowledged records at the head; dead bytes count toward compaction. */
  private advanceWatermark(): void {
    let removed = 0;
    while (removed < this.records.length) {
      const head = this.records[removed]!;
      if (!this.acked.has(head.seq)) break;
      this.acked.delete(head.seq);
      this.pendingBytes -= head.bytes;
      this.deadBytesInLog += head.bytes;
      this.ackedThrough = head.seq;
      removed++;
    }
    if (removed > 0) this.records.splice(0, removed);
    if (removed > 0) this.scheduleAckFlush();
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

  private dropHead(): number {
    const head = this.records.shift()!;
    this.pendingBytes -= head.bytes;
    this.deadBytesInLog += head.bytes;
    if (this.acked.delete(head.seq)) return -1; // was acknowledged already: not a loss
    this.ackedThrough = Math.max(this.ackedThrough, head.seq);
    return head.seq;
  }

  private report(seqs: number[], reason: 'size' | 'age'): void {
    const lost = seqs.filter((s) => s >= 0);
    if (seqs.length > 0) this.advanceWatermark();
    if (lost.length === 0) return;
    if (reason === 'size') this.counters.droppedBySize += lost.length;
    else this.counters.droppedByAge += lost.length;
    this.opts.logger.warn(`outbox: dropped the ${lost.length} oldest detection(s) over the ${reason} bound`, { firstSeq: lost[0], lastSeq: lost[lost.length - 1], bound: reason === 'size' ? this.opts.maxBytes : this.opts.maxAgeMs });
    this.scheduleAckFlush();
    this.opts.onDrop?.(lost, reason);
  }

  private scheduleAckFlush(): void {
    if (this.ackTimer || this.closed) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.writing = this.writing.then(() => this.persist(false)).catch((err: unknown) => {
        this.opts.logger.error('outbox: could not write the acknowledged watermark', { file: this.log.ackFile, error: (err as Error).message });
      });
    }, this.opts.ackFlushMs ?? DEFAULT_ACK_FLUSH_MS);
    this.ackTimer.unref();
  }

  /** Watermark first, then compaction, so the seq can never go backwards after a crash. */
  private async persist(force: boolean): Promise<void> {
    if (this.ackedThrough !== this.persistedAckedThrough) {
      await this.log.writeAcked(this.ackedThrough);
      this.persistedAckedThrough = this.ackedThrough;
    }
    const limit = this.opts.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES;
    const empty = this.records.length === 0 && this.deadBytesInLog > 0;
    if (this.deadBytesInLog > 0 && (force || empty || this.deadBytesInLog >= limit)) {
      await this.log.rewrite(this.records.filter((r) => !this.acked.has(r.seq)));
      this.deadBytesInLog = 0;
    }
  }
}
