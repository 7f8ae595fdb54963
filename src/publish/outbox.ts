import path from 'node:path';
import { backoffDelayMs } from '../backoff.js';
import type { Logger } from '../log.js';
import { OutboxClock, monotonicMs } from './outbox-clock.js';
import { OutboxLog, encodeRecord, type LogEntry, type OutboxRecord, type RewriteItem } from './outbox-log.js';
import type { OutboxLimits, OutboxStats } from './types.js';

export type { OutboxRecord } from './outbox-log.js';
export { OutboxStorageError } from './outbox-log.js';

export type DropReason = 'size' | 'age' | 'memory';

export interface OutboxOptions extends OutboxLimits {
  /** Directory holding `outbox.jsonl` and `outbox.ack.json`. */
  dir: string;
  logger: Logger;
  /** Rewrite the log once this many acknowledged bytes sit in it (default 256 KiB), and they are a quarter of the waiting ones. */
  compactAfterBytes?: number;
  /** How long acknowledgements may wait before the watermark is written (default 1 s). */
  ackFlushMs?: number;
  /** Detections the disk refused that are held in memory at most (default 1000); beyond, the oldest are dropped and counted. */
  memoryMaxRecords?: number;
  /** First wait before the disk is tried again for detections held in memory (default 1 s, doubling to 30 s). */
  retryMs?: number;
  /** Payloads of records on disk kept in memory, read ahead of the publisher (default 1 MiB); the rest stay on disk. */
  readAheadBytes?: number;
  /** How often the age clock is saved while detections wait (default 5 min), so a crash costs at most this much of their age. */
  clockSaveMs?: number;
  /** Wall clock for the `t` of new records (informative); tests pass a fake one. */
  now?: () => number;
  /** Monotonic clock (ms) the age bound counts by; tests pass a fake one. */
  monotonicNow?: () => number;
  /** Told about records the bounds dropped (the publisher forgets them as in-flight). */
  onDrop?: (seqs: number[], reason: DropReason) => void;
  /** firstAfter() found nothing because the next records were still on disk: they are read now, look again. */
  onReadable?: () => void;
}

/** Where an appended record ended up: on disk (fsynced), or only in memory because the disk refused it. */
export type Stored = { durable: true } | { durable: false; error: Error; inMemory: number };

/** One detection not yet acknowledged. */
interface Held {
  seq: number;
  appendedAt: number;
  /** The outbox clock at append: its age is the clock now minus this. */
  bornAt: number;
  bytes: number;
  /** Where it starts in the log; null while the disk refused it: it lives only in memory and is retried. */
  offset: number | null;
  /** Always kept while held only in memory; for records on disk, only within the read-ahead budget. */
  payload: string | null;
}

const DEFAULT_COMPACT_AFTER_BYTES = 256 * 1024;
/** Compaction copies every waiting record: waiting for dead bytes of a quarter of them keeps draining a big log linear. */
const COMPACT_DEAD_SHARE = 0.25;
const DEFAULT_ACK_FLUSH_MS = 1000;
const DEFAULT_MEMORY_MAX_RECORDS = 1000;
const DEFAULT_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
const DEFAULT_READ_AHEAD_BYTES = 1024 * 1024;
const DEFAULT_CLOCK_SAVE_MS = 5 * 60_000;

/** What happens to detections not delivered when the daemon gives up waiting: true of disk and memory alike. */
export function describeUndelivered(stats: Pick<OutboxStats, 'depth' | 'inMemory'>): string {
  if (stats.inMemory === 0) return 'they stay in the outbox for the next start';
  return `${stats.depth - stats.inMemory} on disk stay in the outbox for the next start; ${stats.inMemory} held only in memory (the disk refused them) are written at stop if the disk takes them, otherwise lost`;
}

/**
 * Durable, bounded, ordered store of detections not yet acknowledged by the broker.
 * append() resolves once the record is fsynced, or once the disk refused it and it is held in
 * memory (bounded) and retried; ack() removes it; reopen replays what is left. Memory holds each
 * record's place in the log; payloads are read ahead of the publisher within a budget. Bounds drop
 * the oldest records first and count them. close() never throws: it logs what it could not do.
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
  /** Payload bytes of on-disk records kept in memory (the read-ahead window). */
  private cachedBytes = 0;
  private counters = { droppedBySize: 0, droppedByAge: 0, droppedFromMemory: 0, tornRecords: 0, writeFailures: 0 };
  private batch: Array<{ record: Held; resolve: (s: Stored) => void }> = [];
  private writing: Promise<void> = Promise.resolve();
  private readingAhead = false;
  private ackTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  /** Retries since the disk last took a write: the back-off doubles from retryMs up to MAX_RETRY_MS. */
  private retryFailures = 0;
  /** The last write failed: records may wait in memory and a retry is due. */
  private refused = false;
  private lastWriteError: Error | null = null;
  /** The watermark on disk was corrected at open (a seq beyond the largest): written again soon. */
  private watermarkStale = false;
  private closed = false;
  private readonly now: () => number;
  private clock: OutboxClock;
  /** Said once at open: damaged records skipped, a watermark that could not be trusted. */
  readonly openProblems: string[] = [];

  private constructor(private readonly opts: OutboxOptions) {
    this.log = new OutboxLog(path.join(opts.dir, 'outbox.jsonl'), path.join(opts.dir, 'outbox.ack.json'));
    this.now = opts.now ?? Date.now;
    this.clock = new OutboxClock(0, opts.monotonicNow);
  }

  /** Throws OutboxStorageError (exit code 78) when the state directory or its files cannot be used. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    if (!(opts.maxBytes > 0) || !(opts.maxAgeMs > 0)) throw new Error(`outbox limits must be positive (maxBytes=${opts.maxBytes}, maxAgeMs=${opts.maxAgeMs})`);
    const box = new Outbox(opts);
    const loaded = await box.log.load(box.readAheadBytes);
    for (const detail of loaded.tornDetails) opts.logger.warn('outbox: skipped a damaged record', { detail });
    if (loaded.watermarkProblem) {
      opts.logger.error('outbox: damaged watermark', { file: box.log.ackFile, detail: loaded.watermarkProblem });
      box.openProblems.push(loaded.watermarkProblem);
    }
    for (const problem of loaded.problems) opts.logger.warn(`outbox: ${problem}`);
    box.openProblems.push(...loaded.problems);
    const resumeAt = loaded.entries.reduce((m, e) => Math.max(m, e.ageClockMs ?? 0), loaded.ageClockMs);
    box.clock = new OutboxClock(resumeAt, opts.monotonicNow);
    box.records = loaded.entries.map((e) => box.fromLog(e));
    box.ackedThrough = box.persistedAckedThrough = loaded.ackedThrough;
    box.nextSeqValue = loaded.lastSeq + 1;
    box.persistedLastSeq = loaded.lastSeq;
    box.counters.tornRecords = loaded.tornRecords;
    box.deadBytesInLog = loaded.deadBytes;
    box.enforceBounds();
    box.clockTimer = setInterval(() => { if (box.records.length > 0) box.queueWrite(() => box.saveWatermark('periodic')); }, opts.clockSaveMs ?? DEFAULT_CLOCK_SAVE_MS);
    box.clockTimer.unref();
    box.watermarkStale = loaded.watermarkCorrected;
    if (box.watermarkStale || loaded.deadBytes > 0) box.scheduleAckFlush(); // the corrected watermark, and compaction of what was acknowledged
    return box;
  }

  private fromLog(e: LogEntry): Held {
    if (e.payload !== null) this.cachedBytes += e.payload.length;
    this.pendingBytes += e.bytes;
    // Records written before the age clock start their age now: a wall clock is no measure of it.
    return { seq: e.seq, appendedAt: e.appendedAt, bornAt: e.ageClockMs ?? this.clock.now(), bytes: e.bytes, offset: e.offset, payload: e.payload };
  }

  get logFile(): string { return this.log.logFile; }

  private get readAheadBytes(): number { return this.opts.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES; }

  /** Assigns the next seq, builds the payload with it; `stored` never rejects (see Stored). */
  append(build: (seq: number) => object): { seq: number; stored: Promise<Stored> } {
    if (this.closed) throw new Error('outbox is closed');
    const seq = this.nextSeqValue++;
    const appendedAt = this.now();
    const bornAt = this.clock.now();
    const payload = JSON.stringify(build(seq));
    const record: Held = { seq, appendedAt, bornAt, payload, bytes: Buffer.byteLength(encodeRecord(seq, appendedAt, bornAt, payload)), offset: null };
    const stored = new Promise<Stored>((resolve) => this.batch.push({ record, resolve }));
    if (this.batch.length === 1) this.queueWrite(() => this.flushBatch());
    return { seq, stored };
  }

  /**
   * Oldest unacknowledged record with seq > afterSeq, after applying the age bound. Undefined also
   * while that record's payload is being read from disk: onReadable says when to look again.
   */
  firstAfter(afterSeq: number): OutboxRecord | undefined {
    this.enforceBounds();
    let i = this.indexAfter(afterSeq);
    while (i < this.records.length && this.acked.has(this.records[i]!.seq)) i++;
    const r = this.records[i];
    if (!r) return undefined;
    if (r.payload === null) {
      this.readAhead(r.seq);
      return undefined;
    }
    const next = this.records[i + 1];
    if (next && next.payload === null) this.readAhead(next.seq);
    return { seq: r.seq, appendedAt: r.appendedAt, payload: r.payload, bytes: r.bytes };
  }

  /** Index of the first record with seq > afterSeq (binary search: records are in seq order). */
  private indexAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.records[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(seq: number): Held | undefined {
    const r = this.records[this.indexAfter(seq - 1)];
    return r?.seq === seq ? r : undefined;
  }

  /** The broker acknowledged this seq: forget it (the watermark is written shortly after). */
  ack(seq: number): void {
    if (!this.find(seq) || this.acked.has(seq)) return; // already dropped by a bound, or acknowledged twice
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
      inMemory: unacked.filter((r) => r.offset === null).length,
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
    for (const timer of [this.ackTimer, this.retryTimer, this.clockTimer]) if (timer) clearTimeout(timer);
    this.ackTimer = this.retryTimer = this.clockTimer = null;
    await this.writing;
    const logger = this.opts.logger;
    const watermarkWritten = await this.saveWatermark('at close');
    await this.writeMemoryOnly();
    if (watermarkWritten) {
      await this.compact(true).catch((err: unknown) => logger.error('outbox: could not compact the log at close', { file: this.log.logFile, error: (err as Error).message }));
    }
    const lost = this.memoryOnly();
    if (lost.length > 0) {
      logger.error(`outbox: ${lost.length} detection(s) never reached the disk or the broker and are lost; ${this.depth - lost.length} stay in the outbox for the next start`, {
        file: this.log.logFile, error: this.lastWriteError?.message, seqs: lost.map((r) => r.seq),
      });
    }
    await this.log.close().catch((err: unknown) => logger.error('outbox: could not close the log', { file: this.log.logFile, error: (err as Error).message }));
  }

  /** Writes the watermark (acknowledgements, last seq, age clock) when it says something new; false if the disk refused. */
  private async saveWatermark(when: 'at close' | 'periodic'): Promise<boolean> {
    const ackDue = this.ackedThrough !== this.persistedAckedThrough;
    if (!ackDue && this.records.length === 0) return true;
    try {
      await this.writeWatermarkNow();
      return true;
    } catch (err) {
      const fields = { file: this.log.ackFile, error: (err as Error).message };
      if (ackDue) this.opts.logger.error(`outbox: could not write the acknowledged watermark ${when}; acknowledged detections will be sent again after restart`, fields);
      else this.opts.logger.warn(`outbox: could not save the age clock ${when}; the waiting detections' age counts from its last save`, fields);
      return false;
    }
  }

  /** Work on the file runs one step at a time; a step never rejects, so the chain never stalls. */
  private queueWrite(step: () => Promise<unknown>): void {
    this.writing = this.writing.then(step).then(() => undefined, (err: unknown) => {
      this.opts.logger.error('outbox: unexpected failure', { error: (err as Error).message });
    });
  }

  /** Unacknowledged records held only in memory: always the newest (writes go in seq order), so found from the end. */
  private memoryOnly(): Held[] {
    const out: Held[] = [];
    for (let i = this.records.length - 1; i >= 0 && this.records[i]!.offset === null; i--) {
      if (!this.acked.has(this.records[i]!.seq)) out.unshift(this.records[i]!);
    }
    return out;
  }

  /** Writes the new batch after anything held in memory, in seq order; what the disk does not take waits in memory. */
  private async flushBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    const failure = await this.writeMemoryOnly(batch.map((b) => b.record));
    for (const b of batch) {
      this.records.push(b.record);
      this.pendingBytes += b.record.bytes;
    }
    this.enforceBounds();
    if (failure) this.enforceMemoryBound();
    const inMemory = this.memoryOnly().length;
    for (const b of batch) {
      if (b.record.offset !== null) b.resolve({ durable: true });
      else if (failure) b.resolve({ durable: false, error: new Error(`could not write the outbox ${this.log.logFile}: ${failure.message}`, { cause: failure }), inMemory });
      else b.resolve({ durable: false, error: new Error(`could not write the outbox ${this.log.logFile}`), inMemory }); // dropped by a bound before it was written
    }
  }

  /**
   * Appends what is held in memory, then `fresh` (not yet in `records`: the publisher sees a record
   * only once the disk took it or refused it), as many as the disk takes; returns why the rest
   * could not be written (null if all were).
   */
  private async writeMemoryOnly(fresh: Held[] = []): Promise<Error | null> {
    const pending = [...this.memoryOnly(), ...fresh];
    if (pending.length === 0) return null;
    const { written, offset, error } = await this.log.append(pending.map((r) => encodeRecord(r.seq, r.appendedAt, r.bornAt, r.payload!)));
    const firstFresh = pending.length - fresh.length;
    let at = offset;
    pending.slice(0, written).forEach((r, i) => {
      r.offset = at;
      at += r.bytes;
      if (i >= firstFresh || this.find(r.seq) === r) this.keepPayloadIfRoom(r);
      else r.payload = null; // acknowledged while it was written
    });
    if (error) {
      this.counters.writeFailures++;
      this.refused = true;
      this.lastWriteError = error;
      if (written > 0) {
        this.opts.logger.info('outbox: the disk took some of the detections held in memory', { written, stillInMemory: pending.length - written });
        this.retryFailures = 0; // room is being freed: try again soon
      }
      this.scheduleRetry();
      return error;
    }
    this.onWritten(written);
    return null;
  }

  /** A record just put on disk keeps its payload only while the read-ahead budget allows. */
  private keepPayloadIfRoom(r: Held): void {
    if (r.payload === null) return;
    if (this.cachedBytes + r.payload.length <= this.readAheadBytes) this.cachedBytes += r.payload.length;
    else r.payload = null;
  }

  /** The disk took a write: if it had refused before, say so and stop the retry timer. */
  private onWritten(fromMemory: number): void {
    if (!this.refused) return;
    this.refused = false;
    this.lastWriteError = null;
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
      this.queueWrite(async () => {
        const error = await this.writeMemoryOnly();
        if (error) this.opts.logger.warn('outbox: the disk still refuses detections held in memory; trying again', { file: this.log.logFile, inMemory: this.memoryOnly().length, error: error.message });
      });
    }, delay);
    this.retryTimer.unref();
  }

  /**
   * Reads payloads from the log for the records from `fromSeq` on, up to the read-ahead budget,
   * after forgetting those of records before it (already sent). One read at a time, between writes.
   */
  private readAhead(fromSeq: number): void {
    if (this.readingAhead || this.closed) return;
    this.readingAhead = true;
    this.queueWrite(async () => {
      try {
        const start = this.indexAfter(fromSeq - 1);
        for (const r of this.records.slice(0, start)) this.dropPayload(r);
        const wanted: Held[] = [];
        let bytes = this.cachedBytes;
        for (let i = start; i < this.records.length; i++) {
          const r = this.records[i]!;
          if (r.offset === null) break;
          if (r.payload !== null) continue;
          if (wanted.length > 0 && bytes + r.bytes > this.readAheadBytes) break;
          wanted.push(r);
          bytes += r.bytes;
        }
        if (wanted.length === 0) return;
        const payloads = await this.log.readPayloads(wanted.map((r) => ({ seq: r.seq, offset: r.offset!, bytes: r.bytes })));
        wanted.forEach((r, i) => {
          if (this.find(r.seq) !== r || r.payload !== null) return; // acknowledged or dropped meanwhile
          r.payload = payloads[i]!;
          this.cachedBytes += r.payload.length;
        });
      } catch (err) {
        this.opts.logger.error('outbox: could not read detections back from the log', { file: this.log.logFile, error: (err as Error).message });
      } finally {
        this.readingAhead = false;
      }
      this.opts.onReadable?.();
    });
  }

  private dropPayload(r: Held): void {
    if (r.offset === null || r.payload === null) return;
    this.cachedBytes -= r.payload.length;
    r.payload = null;
  }

  /** Drops acknowledged records at the head; dead bytes on disk count toward compaction. */
  private advanceWatermark(): void {
    let removed = 0;
    while (this.records.length > 0 && this.acked.has(this.records[0]!.seq)) {
      const head = this.records.shift()!;
      this.acked.delete(head.seq);
      this.forget(head);
      this.ackedThrough = head.seq;
      removed++;
    }
    if (removed > 0) this.scheduleAckFlush();
  }

  private forget(r: Held): void {
    this.pendingBytes -= r.bytes;
    if (r.offset !== null) this.deadBytesInLog += r.bytes;
    this.dropPayload(r);
  }

  private enforceBounds(): void {
    const tooOld = this.clock.now() - this.opts.maxAgeMs;
    const byAge: number[] = [];
    while (this.records.length > 0 && this.records[0]!.bornAt < tooOld) byAge.push(this.dropHead());
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
    if (this.ackedThrough !== this.persistedAckedThrough || this.watermarkStale) await this.writeWatermarkNow();
    await this.compact(false);
  }

  private async writeWatermarkNow(): Promise<void> {
    const lastSeq = this.nextSeqValue - 1;
    await this.log.writeWatermark({ ackedThrough: this.ackedThrough, lastSeq, ageClockMs: this.clock.now() });
    this.persistedAckedThrough = this.ackedThrough;
    this.persistedLastSeq = lastSeq;
    this.watermarkStale = false;
  }

  /** Streams the unacknowledged records into a new log (those held in memory too, which puts them on disk). */
  private async compact(force: boolean): Promise<void> {
    const limit = Math.max(this.opts.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES, this.pendingBytes * COMPACT_DEAD_SHARE);
    const empty = this.records.length === 0 && this.deadBytesInLog > 0;
    if (!(this.deadBytesInLog > 0 && (force || empty || this.deadBytesInLog >= limit))) return;
    // The newest records may go (acknowledged out of order): the watermark remembers their seqs first.
    if (this.persistedLastSeq < this.nextSeqValue - 1) await this.writeWatermarkNow();
    const keep = this.records.filter((r) => !this.acked.has(r.seq));
    const items: RewriteItem[] = keep.map((r) => (r.offset !== null ? { offset: r.offset, bytes: r.bytes } : { text: encodeRecord(r.seq, r.appendedAt, r.bornAt, r.payload!) }));
    const fromMemory = keep.filter((r) => r.offset === null).length;
    const offsets = await this.log.rewrite(items);
    let dead = 0;
    keep.forEach((r, i) => {
      const wasHeld = r.offset === null;
      r.offset = offsets[i]!;
      if (this.find(r.seq) !== r) dead += r.bytes; // acknowledged while the new log was written
      else if (wasHeld) this.keepPayloadIfRoom(r);
    });
    this.deadBytesInLog = dead;
    this.onWritten(fromMemory);
  }
}
