/**
 * The outbox log's record format, and reading it in bounded pieces: a log of any size is scanned
 * with one read buffer, and records are read back or copied by their byte offsets.
 */
import type { FileHandle } from 'node:fs/promises';
import { writeAll } from './outbox-files.js';

/**
 * RFC 7464 record separator. Every record is `RS {seq, t, o, msg} LF`: a record cut short by a
 * failed write or a crash can never swallow the one after it, because the next one starts at its
 * own RS. Logs written before framing (plain JSON lines) are still read.
 */
const RS = 0x1e;
const LF = 0x0a;

/**
 * The largest seq the outbox gives (2^50): a thousand detections a second for 35,000 years, and
 * far enough below 2^53 that every seq stays an exact integer. A larger one on disk is damage.
 */
export const MAX_SEQ = 2 ** 50;

/** Bytes read from the log at a time, when scanning, reading ahead and compacting. */
const BLOCK_BYTES = 256 * 1024;
/** A piece longer than this without a separator is damage: skipped without holding it in memory. */
const MAX_RECORD_BYTES = 1024 * 1024;

/** `t`: wall-clock epoch ms at append (informative); `o`: the outbox's age clock at append (OutboxClock). */
export function encodeRecord(seq: number, appendedAt: number, ageClockMs: number, payload: string): string {
  return `\u001e{"seq":${seq},"t":${appendedAt},"o":${ageClockMs},"msg":${payload}}\n`;
}

export interface DecodedRecord {
  seq: number;
  appendedAt: number;
  /** Null for records written before the age clock. */
  ageClockMs: number | null;
  payload: string;
}

export function decodeRecord(text: string): DecodedRecord | null {
  try {
    const rec = JSON.parse(text) as { seq?: unknown; t?: unknown; o?: unknown; msg?: unknown };
    if (typeof rec.seq !== 'number' || !Number.isSafeInteger(rec.seq) || rec.seq < 1 || rec.seq > MAX_SEQ) return null;
    if (typeof rec.t !== 'number' || typeof rec.msg !== 'object' || rec.msg === null) return null;
    const ageClockMs = typeof rec.o === 'number' && Number.isFinite(rec.o) && rec.o >= 0 ? rec.o : null;
    return { seq: rec.seq, appendedAt: rec.t, ageClockMs, payload: JSON.stringify(rec.msg) };
  } catch {
    return null;
  }
}

/** One piece of the log between separators: a record, or damage (record null). */
export interface Piece {
  /** Byte offset of the piece in the log (its RS, if framed). */
  offset: number;
  /** Its bytes, without the LF that ends it. */
  size: number;
  terminated: boolean;
  /** 1-based line of the log it is on. */
  line: number;
  record: DecodedRecord | null;
}

/** Splits the log at every RS and every LF; a piece is a record only if it parses and ends with LF. */
export async function scanLog(fh: FileHandle, onPiece: (piece: Piece) => void): Promise<void> {
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  let carry = Buffer.alloc(0);
  let carryAt = 0;
  let readAt = 0;
  let line = 1;
  /** An oversized piece being skipped: where it began and how many bytes so far. */
  let skipping: { offset: number; size: number } | null = null;
  const emit = (offset: number, piece: Buffer | null, size: number, terminated: boolean): void => {
    const body = piece && piece[0] === RS ? piece.subarray(1) : piece;
    if (terminated && body?.length === 0) {
      line++; // a blank line
      return;
    }
    const record = terminated && body ? decodeRecord(body.toString('utf8')) : null;
    onPiece({ offset, size, terminated, line, record });
    if (terminated) line++;
  };
  for (;;) {
    const { bytesRead } = await fh.read(block, 0, BLOCK_BYTES, readAt);
    readAt += bytesRead;
    const buf = carry.length > 0 ? Buffer.concat([carry, block.subarray(0, bytesRead)]) : block.subarray(0, bytesRead);
    const bufAt = carryAt;
    let pos = 0;
    if (skipping) {
      const nl = buf.indexOf(LF);
      const rs = buf.indexOf(RS);
      const end = rs !== -1 && (nl === -1 || rs < nl) ? rs : nl;
      if (end === -1 && bytesRead > 0) {
        skipping.size += buf.length;
        carry = Buffer.alloc(0);
        carryAt = readAt;
        continue;
      }
      const stop = end === -1 ? buf.length : end;
      emit(skipping.offset, null, skipping.size + stop, end !== -1 && buf[end] === LF);
      skipping = null;
      pos = end !== -1 && buf[end] === LF ? stop + 1 : stop;
    }
    while (pos < buf.length) {
      const nl = buf.indexOf(LF, pos);
      const rs = buf.indexOf(RS, buf[pos] === RS ? pos + 1 : pos);
      if (nl === -1 && rs === -1) break;
      const endsAtRs = rs !== -1 && (nl === -1 || rs < nl);
      const end = endsAtRs ? rs : nl;
      emit(bufAt + pos, buf.subarray(pos, end), end - pos, !endsAtRs);
      pos = endsAtRs ? end : end + 1;
    }
    const rest = buf.subarray(pos);
    if (bytesRead === 0) {
      if (rest.length > 0) emit(bufAt + pos, rest, rest.length, false);
      return;
    }
    if (rest.length > MAX_RECORD_BYTES) {
      skipping = { offset: bufAt + pos, size: rest.length };
      carry = Buffer.alloc(0);
      carryAt = readAt;
    } else {
      carry = Buffer.from(rest); // a copy: `block` is read into again
      carryAt = bufAt + pos;
    }
  }
}

/** Reads byte ranges of a file that mostly come in increasing order, a block at a time. */
export class BlockReader {
  private block = Buffer.alloc(0);
  private blockAt = 0;
  constructor(private readonly fh: FileHandle) {}

  async slice(offset: number, length: number): Promise<Buffer> {
    if (offset < this.blockAt || offset + length > this.blockAt + this.block.length) {
      const block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, length));
      const { bytesRead } = await this.fh.read(block, 0, block.length, offset);
      if (bytesRead < length) throw new Error(`the log ends before byte ${offset + length} (read ${bytesRead} of ${length} at ${offset})`);
      this.block = block.subarray(0, bytesRead);
      this.blockAt = offset;
    }
    return this.block.subarray(offset - this.blockAt, offset - this.blockAt + length);
  }
}

/** Collects small writes into blocks. */
export class BlockWriter {
  private parts: Buffer[] = [];
  private pending = 0;
  constructor(private readonly fh: FileHandle) {}

  async write(data: Buffer): Promise<void> {
    this.parts.push(Buffer.from(data)); // a copy: a BlockReader's block changes under it
    this.pending += data.length;
    if (this.pending >= BLOCK_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const data = Buffer.concat(this.parts);
    this.parts = [];
    this.pending = 0;
    await writeAll(this.fh, data);
  }
}
