/**
 * Enrolment takes on disk, beside the evidence clips and under the same rules (README privacy note):
 * owner-only files, bounded retention (enrolment.maxTakesPerTerm, enrolment.maxAgeH; the oldest goes
 * first), and they leave the device only through `gearhear enroll export`. Layout (format 1):
 *
 *   <state.dir>/enrolment/<term slug>/<takeId>.wav   16 kHz mono 16-bit PCM: the term, trimmed
 *   <state.dir>/enrolment/<term slug>/<takeId>.json  TakeMeta: term, who, when, from where, level
 *
 * A take id is `<UTC time, YYYYMMDDTHHMMSSmmmZ>-<8 hex>`, so names sort by time. The WAV is written
 * before its JSON (each to a temp name, then renamed), so a listed take has its audio.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeWav } from '../audio/wav-decode.js';
import { SAMPLE_RATE } from '../audio/types.js';
import { encodeWav, floatToInt16 } from '../evidence/wav.js';
import { ensureOwnerOnlyDir, OWNER_FILE_MODE } from '../owner-only.js';
import type { CheckedTake } from './take-check.js';

export const ENROLMENT_DIR = 'enrolment';
export const TAKE_FORMAT = 1;
export const TAKE_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

export interface TakeMeta {
  format: typeof TAKE_FORMAT;
  takeId: string;
  term: string;
  /** Who said it (a name or badge id the site chooses), so one person's takes can be removed. */
  who: string;
  /** When it was taken (ISO 8601). */
  at: string;
  /** Where it came from: a file's name, or `mic`. */
  source: string;
  /** Sample of the WAV where the term ends. */
  speechEnd: number;
  speechSec: number;
  levelDbfs: number;
}

export interface TakeRecord extends TakeMeta { wavPath: string; metaPath: string }

export interface Retention { maxTakesPerTerm: number; maxAgeMs: number }

export function enrolmentDir(stateDir: string): string {
  return path.join(stateDir, ENROLMENT_DIR);
}

/** A folder name for a term: lower-case words joined by '-', nothing else. */
export function termSlug(term: string): string {
  return term.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'term';
}

function newTakeId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

async function writeOwnerOnly(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, data, { mode: OWNER_FILE_MODE });
  await rename(tmp, file);
}

/** Stores a checked take of `term`; then applies the retention bounds. Returns the stored record. */
export async function addTake(stateDir: string, term: string, take: CheckedTake, who: string, source: string, retention: Retention, now = new Date()): Promise<TakeRecord> {
  const dir = path.join(enrolmentDir(stateDir), termSlug(term));
  await ensureOwnerOnlyDir(dir);
  const takeId = newTakeId(now);
  const meta: TakeMeta = {
    format: TAKE_FORMAT, takeId, term, who, at: now.toISOString(), source,
    speechEnd: take.speechEnd, speechSec: Math.round(take.speechSec * 1000) / 1000, levelDbfs: take.levelDbfs,
  };
  const wavPath = path.join(dir, `${takeId}.wav`), metaPath = path.join(dir, `${takeId}.json`);
  await writeOwnerOnly(wavPath, encodeWav(floatToInt16(take.samples), SAMPLE_RATE));
  await writeOwnerOnly(metaPath, JSON.stringify(meta, null, 1) + '\n');
  await applyRetention(stateDir, retention, now);
  return { ...meta, wavPath, metaPath };
}

function isTakeMeta(v: unknown): v is TakeMeta {
  const m = v as Partial<TakeMeta> | null;
  return !!m && m.format === TAKE_FORMAT && typeof m.takeId === 'string' && TAKE_ID_PATTERN.test(m.takeId) && typeof m.term === 'string'
    && typeof m.who === 'string' && typeof m.at === 'string' && typeof m.speechEnd === 'number';
}

export interface TakeFilter { term?: string; who?: string }

/** Every complete take, oldest first (a missing folder: none). Unreadable ones are named in `skipped`. */
export async function listTakes(stateDir: string, filter: TakeFilter = {}): Promise<{ takes: TakeRecord[]; skipped: string[] }> {
  const root = enrolmentDir(stateDir);
  const folders = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new Error(`cannot read the enrolment folder ${root}: ${err.message}`);
  });
  const takes: TakeRecord[] = [], skipped: string[] = [];
  for (const folder of folders) {
    const dir = path.join(root, folder);
    const names = await readdir(dir).catch(() => [] as string[]);
    const wavs = new Set(names.filter((n) => n.endsWith('.wav')));
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const metaPath = path.join(dir, name);
      const meta = await readFile(metaPath, 'utf8').then((t) => JSON.parse(t) as unknown).catch(() => null);
      if (!isTakeMeta(meta) || !wavs.has(`${meta.takeId}.wav`)) {
        skipped.push(metaPath);
        continue;
      }
      if (filter.term !== undefined && meta.term !== filter.term) continue;
      if (filter.who !== undefined && meta.who !== filter.who) continue;
      takes.push({ ...meta, metaPath, wavPath: path.join(dir, `${meta.takeId}.wav`) });
    }
  }
  takes.sort((a, b) => a.takeId.localeCompare(b.takeId));
  return { takes, skipped };
}

export async function readTakeSamples(take: Pick<TakeRecord, 'wavPath'>): Promise<Float32Array> {
  return decodeWav(await readFile(take.wavPath), take.wavPath);
}

export async function removeTake(take: Pick<TakeRecord, 'wavPath' | 'metaPath'>): Promise<void> {
  await rm(take.metaPath, { force: true });
  await rm(take.wavPath, { force: true });
}

/** Deletes takes older than maxAgeMs, then each term's oldest beyond maxTakesPerTerm. Returns how many. */
export async function applyRetention(stateDir: string, r: Retention, now = new Date()): Promise<number> {
  const { takes } = await listTakes(stateDir);
  let removed = 0;
  const kept = new Map<string, TakeRecord[]>();
  for (const t of takes) {
    if (now.getTime() - Date.parse(t.at) > r.maxAgeMs) {
      await removeTake(t);
      removed++;
    } else kept.set(t.term, [...(kept.get(t.term) ?? []), t]);
  }
  for (const list of kept.values()) {
    for (const t of list.slice(0, Math.max(0, list.length - r.maxTakesPerTerm))) {
      await removeTake(t);
      removed++;
    }
  }
  return removed;
}
