/**
 * The evidence store on disk, and a reader for it (`gearhear clips`, `gearhear calibrate
 * --from-feedback`). Layout, in `<state.dir>/evidence/` (format 1):
 *
 *   <clipId>.wav     16 kHz mono 16-bit PCM WAV: preRoll before the term's start to postRoll after its end
 *   <clipId>.json    ClipMeta: the detection, where the term lies in the clip, and the operator's verdict
 *   verdicts.json    VerdictCounts: verdicts per term since the store was made (survive clip pruning)
 *
 * A clip id is `<UTC time of the detection, YYYYMMDDTHHMMSSmmmZ>-<8 hex>`, so names sort by time.
 * Files are written to a temp name and renamed, so a reader never sees half a file; the WAV is
 * written before its JSON, so a listed clip has its audio. Nothing here writes.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { decodeWav } from '../audio/wav-decode.js';

export const EVIDENCE_DIR = 'evidence';
export const EVIDENCE_FORMAT = 1;
export const VERDICT_COUNTS_FILE = 'verdicts.json';
export const CLIP_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

/** An operator's verdict on one detection. */
export type VerdictKind = 'false' | 'true' | 'wrong-term';

export interface Verdict {
  verdict: VerdictKind;
  /** wrong-term: the term that was really said. */
  saidTerm?: string;
  /** When the verdict arrived (ISO 8601). */
  at: string;
}

export interface ClipMeta {
  format: typeof EVIDENCE_FORMAT;
  clipId: string;
  detectionId: string;
  deviceId: string;
  /** When the term was heard (the detection's timestamp). */
  timestamp: string;
  term: string;
  category: string;
  severity: string;
  confidence: number;
  threshold: number;
  /** The term's span, in seconds of the audio stream (as in the detection message). */
  start: number;
  end: number;
  /** The clip's span in seconds of the audio stream; the term lies at [start - clipStart, end - clipStart] in the WAV. */
  clipStart: number;
  clipEnd: number;
  sampleRate: number;
  /** Size of the WAV file. */
  wavBytes: number;
  /** The audio before the term (or after it) was shorter than asked: the stream began or ended there. */
  truncated: boolean;
  model: { id: string; version: string };
  vocabularyVersion: string;
  verdict?: Verdict;
}

export interface TermVerdicts { false: number; true: number; wrongTerm: number }
export type VerdictCounts = Record<string, TermVerdicts>;

/** A clip as listed: its metadata and where its WAV is. */
export interface ClipRecord extends ClipMeta { wavPath: string; metaPath: string }

export interface ClipFilter {
  /** Only clips heard at or after this time. */
  since?: Date;
  /** Only clips with this verdict (`none`: without one). */
  verdict?: VerdictKind | 'none';
  /** Only clips of this term. */
  term?: string;
}

export function evidenceDir(stateDir: string): string {
  return path.join(stateDir, EVIDENCE_DIR);
}

export function isClipMeta(v: unknown): v is ClipMeta {
  const m = v as Partial<ClipMeta> | null;
  return !!m && m.format === EVIDENCE_FORMAT && typeof m.clipId === 'string' && CLIP_ID_PATTERN.test(m.clipId)
    && typeof m.detectionId === 'string' && typeof m.term === 'string' && typeof m.timestamp === 'string'
    && typeof m.start === 'number' && typeof m.end === 'number' && typeof m.clipStart === 'number';
}

function matches(m: ClipMeta, f: ClipFilter): boolean {
  if (f.since && Date.parse(m.timestamp) < f.since.getTime()) return false;
  if (f.verdict === 'none' && m.verdict) return false;
  if (f.verdict && f.verdict !== 'none' && m.verdict?.verdict !== f.verdict) return false;
  if (f.term !== undefined && m.term !== f.term) return false;
  return true;
}

/**
 * Every complete clip in `<stateDir>/evidence`, oldest first, filtered. A clip whose JSON is
 * unreadable or whose WAV is missing is left out (and named in `skipped`). A missing folder is empty.
 */
export async function listClips(stateDir: string, filter: ClipFilter = {}): Promise<{ clips: ClipRecord[]; skipped: string[] }> {
  const dir = evidenceDir(stateDir);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw new Error(`cannot read the evidence folder ${dir}: ${err.message}`);
  });
  const wavs = new Set(names.filter((n) => n.endsWith('.wav')));
  const clips: ClipRecord[] = [];
  const skipped: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && n !== VERDICT_COUNTS_FILE).sort()) {
    const metaPath = path.join(dir, name);
    const meta = await readFile(metaPath, 'utf8').then((t) => JSON.parse(t) as unknown).catch(() => null);
    if (!isClipMeta(meta) || !wavs.has(`${meta.clipId}.wav`)) {
      skipped.push(metaPath);
      continue;
    }
    if (matches(meta, filter)) clips.push({ ...meta, metaPath, wavPath: path.join(dir, `${meta.clipId}.wav`) });
  }
  return { clips, skipped };
}

/** One clip by its clip id or its detection id; null when the store has none. */
export async function findClip(stateDir: string, id: string): Promise<ClipRecord | null> {
  const dir = evidenceDir(stateDir);
  if (CLIP_ID_PATTERN.test(id)) {
    const metaPath = path.join(dir, `${id}.json`);
    const meta = await readFile(metaPath, 'utf8').then((t) => JSON.parse(t) as unknown).catch(() => null);
    const wavPath = path.join(dir, `${id}.wav`);
    if (isClipMeta(meta) && (await stat(wavPath).catch(() => null))) return { ...meta, metaPath, wavPath };
    return null;
  }
  return (await listClips(stateDir)).clips.find((c) => c.detectionId === id) ?? null;
}

/** The clip's audio as 16 kHz float samples in [-1, 1] (what the model takes). */
export async function readClipSamples(clip: Pick<ClipRecord, 'wavPath'>): Promise<Float32Array> {
  return decodeWav(await readFile(clip.wavPath), clip.wavPath);
}

/** Verdicts per term since the store was made ({} when none). */
export async function readVerdictCounts(stateDir: string): Promise<VerdictCounts> {
  const file = path.join(evidenceDir(stateDir), VERDICT_COUNTS_FILE);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '{}';
    throw new Error(`cannot read ${file}: ${err.message}`);
  });
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as VerdictCounts;
  } catch { /* reported below */ }
  throw new Error(`${file} is damaged (not a JSON object of verdict counts); move it away to start counting again`);
}
