/**
 * The negative embedding bank shipped beside the term heads (negatives.json + negatives.u8, made by
 * models/training/heads/bank.py): embedding sequences of real speech without any vocabulary term,
 * synthesised sentences and machine noise, against which `gearhear vocab compile` fits new heads.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError } from './manifest.js';
import { EMBEDDING_DIM } from './speech-embedding.js';
import { windowsEndingAt } from './term-heads.js';

export const NEGATIVE_BANK_MANIFEST = 'negatives.json';
const FORMAT = 'gearhear-negative-embeddings/1';

interface BankManifest {
  format: string;
  file: string;
  sha256: string;
  dim: number;
  hops: number;
  offset: number[];
  scale: number[];
  /** Hops of each recording, laid end to end in the file. */
  segments: number[];
  /** The embedding a fresh stream's window is padded with. */
  init: number[];
}

export class NegativeBank {
  private constructor(private readonly data: Float32Array, private readonly segments: readonly number[], private readonly init: Float32Array) {}

  static async load(dir: string): Promise<NegativeBank> {
    const file = path.join(dir, NEGATIVE_BANK_MANIFEST);
    let m: BankManifest;
    try {
      m = JSON.parse(await readFile(file, 'utf8')) as BankManifest;
    } catch (cause) {
      throw new ModelLoadError(`negative bank: cannot read ${file}: ${(cause as Error).message}; reinstall the term heads (models/gearhear-heads)`, { cause });
    }
    const sum = Array.isArray(m.segments) ? m.segments.reduce((a, b) => a + b, 0) : -1;
    if (m.format !== FORMAT || m.dim !== EMBEDDING_DIM || sum !== m.hops || m.offset?.length !== EMBEDDING_DIM || m.scale?.length !== EMBEDDING_DIM || m.init?.length !== EMBEDDING_DIM) {
      throw new ModelLoadError(`negative bank: ${file} is not a ${FORMAT} manifest of ${EMBEDDING_DIM}-dim embeddings whose segments add up to its hops`);
    }
    const binPath = path.join(dir, m.file);
    let bytes: Buffer;
    try {
      bytes = await readFile(binPath);
    } catch (cause) {
      throw new ModelLoadError(`negative bank: ${binPath} (named by ${file}) cannot be read: ${(cause as Error).message}`, { cause });
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== m.sha256 || bytes.length !== m.hops * EMBEDDING_DIM) {
      throw new ModelLoadError(`negative bank: ${binPath} is damaged (SHA-256 ${sha}, ${bytes.length} bytes; ${file} says ${m.sha256}, ${m.hops * EMBEDDING_DIM}); reinstall it`);
    }
    const data = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) data[i] = bytes[i]! * m.scale[i % EMBEDDING_DIM]! + m.offset[i % EMBEDDING_DIM]!;
    return new NegativeBank(data, m.segments, Float32Array.from(m.init));
  }

  get hops(): number {
    return this.data.length / EMBEDDING_DIM;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** How many hops (so windows) the segments that `pick` chooses hold. */
  hopsIn(pick: (segment: number) => boolean): number {
    return this.segments.reduce((a, len, i) => a + (pick(i) ? len : 0), 0);
  }

  /**
   * Every window of `window` embeddings ending at a hop of the chosen segments (those for which
   * `pick(segmentIndex)` is true), padded before each segment with the initial embedding as a fresh
   * stream is, in batches of at most `batch` windows (a batch never spans two segments).
   */
  *windows(window: number, pick: (segment: number) => boolean, batch = 1024): Generator<{ data: Float32Array; count: number }> {
    let first = 0;
    for (const [i, len] of this.segments.entries()) {
      if (pick(i)) {
        const emb = this.data.subarray(first * EMBEDDING_DIM, (first + len) * EMBEDDING_DIM);
        for (let k = 1; k <= len; k += batch) {
          const ends = Array.from({ length: Math.min(batch, len - k + 1) }, (_, j) => k + j);
          yield { data: windowsEndingAt(emb, this.init, window, ends), count: ends.length };
        }
      }
      first += len;
    }
  }

}
