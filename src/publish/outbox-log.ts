import { open, readFile, rename, mkdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../durable-file.js';
import { EX_CONFIG } from '../config/errors.js';

/** One detection waiting in the outbox: its payload is the exact JSON text that will be published. */
export interface OutboxRecord {
  seq: number;
  /** Epoch ms when appended (for the age bound). */
  appendedAt: number;
  payload: string;
  /** Size of the record in the log file. */
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
  /** The watermark file was unreadable or impossible: said in words, naming the file (null when fine). */
  watermarkProblem: string | null;
}

/** The state directory or an outbox file cannot be used at all: a setup fault, so the daemon exits EX_CONFIG. */
export class OutboxStorageError extends Error {
  readonly exitCode = EX_CONFIG;
  constructor(message: string, readonly file: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboxStorageError';
  }
}

/**
 * RFC 7464 record separator. Every record is `RS {seq, t, msg} LF`: a record cut short by a failed
 * write or a crash can never swallow the one after it, because the next one starts at its own RS.
 * Logs written before framing (plain JSON lines) are still read.
 */
const RS = '\u001e';

export function encodeRecord(seq: number, appendedAt: number, payload: string): string {
  return `${RS}{"seq":${seq},"t":${appendedAt},"msg":${payload}}\n`;
}

function decodeRecord(text: string): { seq: number; t: number; msg: unknown } | null {
  try {
    const rec = JSON.parse(text) as { seq?: unknown; t?: unknown; msg?: unknown };
    if (typeof rec.seq !== 'number' || !Number.isSafeInteger(rec.seq) || rec.seq < 1 || typeof rec.t !== 'number' || typeof rec.msg !== 'object' || rec.msg === null) return null;
    return { seq: rec.seq, t: rec.t, msg: rec.msg };
  } catch {
    return null;
  }
}

interface ParsedLog { records: OutboxRecord[]; torn: string[]; clean: boolean }

/** Splits the log at every RS and every LF; a piece is trusted only if it parses and ends with LF. */
export function parseLog(text: string, file: string): ParsedLog {
  const records: OutboxRecord[] = [];
  const torn: string[] = [];
  let pos = 0;
  let line = 1;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const rs = text.indexOf(RS, text[pos] === RS ? pos + 1 : pos);
    const endsAtRs = rs !== -1 && (nl === -1 || rs < nl);
    const end = endsAtRs ? rs : nl === -1 ? text.length : nl;
    const terminated = !endsAtRs && nl !== -1;
    const piece = text.slice(pos, end);
    const body = piece.startsWith(RS) ? piece.slice(1) : piece;
    if (!(terminated && body === '')) {
      const rec = terminated ? decodeRecord(body) : null;
      if (rec) records.push({ seq: rec.seq, appendedAt: rec.t, payload: JSON.stringify(rec.msg), bytes: Buffer.byteLength(piece) + 1 });
      else torn.push(`${file} line ${line}: ${terminated ? 'unreadable record' : 'unterminated (torn) record'} of ${Buffer.byteLength(piece)} bytes skipped`);
    }
    if (terminated) line++;
    pos = terminated ? end + 1 : end;
  }
  return { records, torn, clean: torn.length === 0 };
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String((err as Error).message ?? err);
}

/**
 * Fails with a clear message unless the daemon can create files in `dir` and append to the log:
 * a read-only or foreign state directory is found at start, before anything is heard.
 */
export async function checkWritable(dir: string, logFile: string): Promise<void> {
  const hint = 'the outbox keeps detections there until the broker has them: make it writable by the daemon\'s user, or set state.dir to a writable directory';
  try {
    await mkdir(dir, { recursive: true });
    const probe = path.join(dir, '.gearhear-write-check');
    const fh = await open(probe, 'w');
    await fh.close();
    await unlink(probe);
  } catch (err) {
    throw new OutboxStorageError(`state directory ${dir} is not writable (${describe(err)}): ${hint}`, dir, { cause: err });
  }
  try {
    const fh = await open(logFile, 'a');
    await fh.close();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EISDIR') throw new OutboxStorageError(`outbox log ${logFile} is a directory, not a file: move it out of the way (the daemon writes its detections there)`, logFile, { cause: err });
    throw new OutboxStorageError(`outbox log ${logFile} cannot be opened for writing (${describe(err)}): ${hint}`, logFile, { cause: err });
  }
}

async function readOptional(file: string, what: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    if (e.code === 'EISDIR') throw new OutboxStorageError(`${what} ${file} is a directory, not a file: move it out of the way`, file, { cause: err });
    throw new OutboxStorageError(`cannot read ${what} ${file} (${describe(err)})`, file, { cause: err });
  }
}

/** The watermark as written, or why it cannot be trusted. */
function parseWatermark(text: string): { value: number; lastSeq: number } | { problem: string } {
  if (text.trim() === '') return { problem: 'is empty' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { problem: `is not JSON (${(err as Error).message})` };
  }
  const value = (parsed as { ackedThrough?: unknown } | null)?.ackedThrough;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return { problem: `has no whole, non-negative "ackedThrough" (got ${JSON.stringify(value) ?? 'nothing'})` };
  // lastSeq (the highest seq ever given) came later: a file without it is an older gearhear's.
  const lastSeq = (parsed as { lastSeq?: unknown }).lastSeq ?? value;
  if (typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < value) return { problem: `has a "lastSeq" that is not a whole number at or above ackedThrough ${value} (got ${JSON.stringify(lastSeq)})` };
  return { value, lastSeq };
}

/**
 * The on-disk half of the outbox: an append-only log of framed records (fsync per batch) and an
 * `ackedThrough` watermark file. Compaction rewrites the log without acknowledged records.
 */
export class OutboxLog {
  private fh: FileHandle | null = null;
  /** Bytes of whole records in the log: a failed append is cut back to this. */
  private size = 0;
  constructor(readonly logFile: string, readonly ackFile: string) {}

  async load(): Promise<LoadedLog> {
    await checkWritable(path.dirname(this.logFile), this.logFile);
    const ackText = await readOptional(this.ackFile, 'outbox watermark');
    const text = (await readOptional(this.logFile, 'outbox log')) ?? '';
    const parsed = parseLog(text, this.logFile);
    const logMax = parsed.records.reduce((m, r) => Math.max(m, r.seq), 0);
    let ackedThrough = 0;
    let lastSeq = 0;
    let watermarkProblem: string | null = null;
    if (ackText !== null) {
      const mark = parseWatermark(ackText);
      if ('problem' in mark) watermarkProblem = mark.problem;
      // The watermark only ever reaches a seq that was in the log; beyond the log's last record it is damage.
      else if (parsed.records.length > 0 && mark.value > logMax) watermarkProblem = `claims ackedThrough ${mark.value}, beyond the last record (seq ${logMax}) in ${this.logFile}`;
      else ({ value: ackedThrough, lastSeq } = mark);
    }
    if (watermarkProblem !== null) watermarkProblem = await this.setAsideWatermark(watermarkProblem);
    const records = parsed.records.filter((r) => r.seq > ackedThrough).sort((a, b) => a.seq - b.seq);
    // Records acknowledged out of order may have been compacted away: lastSeq remembers their seqs.
    const maxSeq = Math.max(ackedThrough, logMax, lastSeq);
    const tornDetails = [...parsed.torn];
    // Torn or unreadable pieces are rewritten away. If the disk refuses, they stay: the framing keeps them apart.
    if (!parsed.clean) {
      await this.rewrite(records).catch((err: unknown) => tornDetails.push(`${this.logFile} could not be rewritten without them (${describe(err)}); they stay until the next compaction`));
    }
    return { records, ackedThrough, maxSeq, tornRecords: parsed.torn.length, tornDetails, watermarkProblem };
  }

  /** Moves a damaged watermark aside (kept for a look) so the next start does not report it again. */
  private async setAsideWatermark(problem: string): Promise<string> {
    const aside = `${this.ackFile}.damaged`;
    const kept = await rename(this.ackFile, aside).then(() => `kept as ${aside}`, (err: unknown) => `could not be moved aside (${describe(err)})`);
    return `outbox watermark ${this.ackFile} ${problem}: replaying the whole outbox from its start (consumers dedupe by id); the damaged file ${kept}`;
  }

  /** Appends records and fsyncs once for the whole batch; writes every byte or throws, leaving no partial record behind. */
  async append(lines: string[]): Promise<void> {
    if (!this.fh) {
      const fh = await open(this.logFile, 'a');
      this.size = (await fh.stat().catch(async (err: unknown) => { await fh.close(); throw err; })).size;
      this.fh = fh;
    }
    const fh = this.fh;
    const data = Buffer.from(lines.join(''));
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done);
        if (bytesWritten <= 0) throw new Error(`write of ${this.logFile} made no progress`);
        done += bytesWritten; // a short write (a full disk at a page edge) continues until ENOSPC or done
      }
      await fh.datasync();
      this.size += data.length;
    } catch (err) {
      await this.cutBack();
      throw err;
    }
  }

  /** Truncates a partly written batch; if even that fails the handle is dropped (the framing still isolates it). */
  private async cutBack(): Promise<void> {
    try {
      await this.fh?.truncate(this.size);
    } catch {
      await this.closeHandle().catch(() => undefined);
    }
  }

  /** `lastSeq`: the highest seq given so far, so a seq is never given twice after a compaction. */
  async writeAcked(ackedThrough: number, lastSeq: number): Promise<void> {
    await writeFileAtomic(this.ackFile, JSON.stringify({ ackedThrough, lastSeq }) + '\n');
  }

  /** Replaces the log with just these records. Call writeAcked first (with lastSeq) so the seq never goes back. */
  async rewrite(records: readonly OutboxRecord[]): Promise<void> {
    await this.closeHandle().catch(() => undefined);
    const data = records.map((r) => encodeRecord(r.seq, r.appendedAt, r.payload)).join('');
    await writeFileAtomic(this.logFile, data);
    this.size = Buffer.byteLength(data);
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
