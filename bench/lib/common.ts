/** Shared helpers of the benchmarks: paths, statistics, WAV writing, child processes. */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SAMPLE_RATE } from '../../src/audio/types.js';

export const execFileAsync = promisify(execFile);

/** dist/bench/lib -> repository root (also right for bench/lib when run from source). */
export const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
export const sharedData = path.resolve(repoRoot, '../shared/data');
export const cacheRoot = path.join(os.tmpdir(), 'gearhear-bench');

function findRepoRoot(from: string): string {
  const parts = from.split(path.sep);
  const i = parts.lastIndexOf('bench');
  const upTo = parts.slice(0, i).join(path.sep) || path.sep;
  return path.basename(upTo) === 'dist' ? path.dirname(upTo) : upTo;
}

export async function cacheDir(...sub: string[]): Promise<string> {
  const dir = path.join(cacheRoot, ...sub);
  await mkdir(dir, { recursive: true });
  return dir;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Linear-interpolated percentile; NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** 16 kHz mono 16-bit PCM WAV. */
export function encodeWav(samples: Float32Array, sampleRate = SAMPLE_RATE): Buffer {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + samples.length * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24); buf.writeUInt32LE(sampleRate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    buf.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  return buf;
}

export async function writeWav(file: string, samples: Float32Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, encodeWav(samples));
}

/** Deterministic pseudo-random numbers (mulberry32), so cached recordings are reproducible. */
export { pick, seededRandom } from '../../src/kws/term-synth.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `work` over `items` with at most `limit` at a time, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A printable table: header row, then rows, columns padded. */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isNaN(c) ? '-' : String(round(c))) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
