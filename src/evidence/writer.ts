/**
 * Writes the evidence store (format in ./store.ts) and keeps it inside its bounds. Drop policy:
 * before a clip is added, clips older than maxAge are deleted; then, while the store would hold
 * more than maxClips clips or maxBytes bytes, the oldest clip without a verdict is deleted (the
 * oldest with a verdict only when none is left without). Age is also enforced at open and hourly.
 * Every drop is counted by cause. Mutations run one at a time.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../durable-file.js';
import type { Logger } from '../log.js';
import { ensureOwnerOnlyDir, octal, tightenOwnerOnly } from '../owner-only.js';
import {
  EVIDENCE_FORMAT, VERDICT_COUNTS_FILE, evidenceDir, listClips, readVerdictCounts,
  type ClipMeta, type TermVerdicts, type Verdict, type VerdictCounts, type VerdictKind,
} from './store.js';
import { encodeWav } from './wav.js';

export interface EvidenceLimits {
  maxClips: number;
  maxBytes: number;
  maxAgeMs: number;
}

export interface EvidenceStats {
  clips: number;
  bytes: number;
  /** Clips written since start. */
  recorded: number;
  /** Clips with less audio around the term than asked (the stream began or ended there). */
  truncated: number;
  droppedByCount: number;
  droppedBySize: number;
  droppedByAge: number;
  /** Clips that could not be written (disk full, read-only): the detection was still published. */
  writeFailures: number;
}

interface Entry { clipId: string; detectionId: string; term: string; bytes: number; heardAt: number; hasVerdict: boolean }

const PRUNE_INTERVAL_MS = 3600_000;
const VERDICT_FIELD: Record<VerdictKind, keyof TermVerdicts> = { false: 'false', true: 'true', 'wrong-term': 'wrongTerm' };

export type NewClip = Omit<ClipMeta, 'format' | 'wavBytes' | 'verdict'>;

export class EvidenceWriter {
  private entries: Entry[] = [];
  private counts: VerdictCounts = {};
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly figures = { recorded: 0, truncated: 0, droppedByCount: 0, droppedBySize: 0, droppedByAge: 0, writeFailures: 0 };
  readonly dir: string;

  private constructor(private readonly stateDir: string, private readonly limits: EvidenceLimits, private readonly logger: Logger, private readonly now: () => number) {
    this.dir = evidenceDir(stateDir);
  }

  /**
   * Opens (creating) the store owner-only, tightens what others could read, forgets half-written
   * files, enforces the age bound. Throws naming the folder if it cannot be used.
   */
  static async open(o: { stateDir: string; limits: EvidenceLimits; logger: Logger; now?: () => number }): Promise<EvidenceWriter> {
    const w = new EvidenceWriter(o.stateDir, o.limits, o.logger, o.now ?? Date.now);
    const dirWas = await ensureOwnerOnlyDir(w.dir).catch((err: Error) => { throw new Error(`cannot create the evidence folder ${w.dir}: ${err.message}`); });
    await w.tightenFiles(dirWas);
    const { clips, skipped } = await listClips(o.stateDir);
    const known = new Set(clips.map((c) => c.clipId));
    for (const name of await readdir(w.dir)) {
      const base = name.replace(/\.(wav|json)(\.tmp)?$/, '');
      const orphan = name.endsWith('.tmp') || (name.endsWith('.wav') && !known.has(base));
      if (orphan) await rm(path.join(w.dir, name), { force: true }).catch(() => undefined);
    }
    for (const s of skipped) {
      o.logger.warn('evidence: damaged clip record removed', { file: s });
      await rm(s, { force: true }).catch(() => undefined);
      await rm(s.replace(/\.json$/, '.wav'), { force: true }).catch(() => undefined);
    }
    w.entries = clips.map((c) => ({ clipId: c.clipId, detectionId: c.detectionId, term: c.term, bytes: c.wavBytes, heardAt: Date.parse(c.timestamp), hasVerdict: !!c.verdict }));
    w.counts = await readVerdictCounts(o.stateDir);
    await w.pruneByAge();
    w.timer = setInterval(() => void w.serial(() => w.pruneByAge()), PRUNE_INTERVAL_MS);
    w.timer.unref();
    return w;
  }

  /** Clips written under a loose umask (by an older gearhear) become owner-only: they record workplace speech. */
  private async tightenFiles(dirWas: number | null): Promise<void> {
    let files = 0;
    for (const name of await readdir(this.dir)) if ((await tightenOwnerOnly(path.join(this.dir, name))) !== null) files++;
    if (dirWas === null && files === 0) return;
    this.logger.warn('evidence: the clips were readable by other users; made owner-only (they record workplace speech)', {
      dir: this.dir, ...(dirWas === null ? {} : { dirModeWas: octal(dirWas) }), filesTightened: files,
    });
  }

  stats(): EvidenceStats {
    return { clips: this.entries.length, bytes: this.entries.reduce((s, e) => s + e.bytes, 0), ...this.figures };
  }

  verdictCounts(): VerdictCounts { return structuredClone(this.counts); }

  /** The clip of a clip id or detection id, or of the newest detection for `last`. */
  find(id: string): { clipId: string; detectionId: string; term: string } | null {
    const e = id === 'last' ? this.entries.at(-1) : this.entries.find((x) => x.clipId === id || x.detectionId === id);
    return e ? { clipId: e.clipId, detectionId: e.detectionId, term: e.term } : null;
  }

  /** Adds a clip, dropping others first as the bounds require. Resolves false (counted, logged) when it cannot be written. */
  save(clip: NewClip, samples: Int16Array): Promise<boolean> {
    return this.serial(async () => {
      const wav = encodeWav(samples, clip.sampleRate);
      await this.pruneByAge();
      await this.makeRoom(wav.length);
      const meta: ClipMeta = { format: EVIDENCE_FORMAT, ...clip, wavBytes: wav.length };
      const wavPath = path.join(this.dir, `${clip.clipId}.wav`);
      try {
        await writeFileAtomic(wavPath, wav);
        await writeFileAtomic(path.join(this.dir, `${clip.clipId}.json`), JSON.stringify(meta, null, 1) + '\n');
      } catch (err) {
        await rm(wavPath, { force: true }).catch(() => undefined);
        this.figures.writeFailures++;
        this.logger.error('evidence: could not write a clip; the detection itself is not affected', { clipId: clip.clipId, dir: this.dir, error: (err as Error).message });
        return false;
      }
      this.entries.push({ clipId: clip.clipId, detectionId: clip.detectionId, term: clip.term, bytes: wav.length, heardAt: Date.parse(clip.timestamp), hasVerdict: false });
      this.figures.recorded++;
      if (clip.truncated) this.figures.truncated++;
      return true;
    });
  }

  /** Stores a verdict with the clip (a later verdict replaces an earlier one) and counts it for the term. */
  setVerdict(id: string, verdict: Verdict): Promise<{ meta: ClipMeta; counts: TermVerdicts }> {
    return this.serial(async () => {
      const found = this.find(id);
      if (!found) throw new Error(`no evidence clip for "${id}"`);
      const metaPath = path.join(this.dir, `${found.clipId}.json`);
      const meta = JSON.parse(await readFile(metaPath, 'utf8')) as ClipMeta;
      const previous = meta.verdict;
      meta.verdict = verdict;
      await writeFileAtomic(metaPath, JSON.stringify(meta, null, 1) + '\n');
      const counts = (this.counts[meta.term] ??= { false: 0, true: 0, wrongTerm: 0 });
      if (previous) counts[VERDICT_FIELD[previous.verdict]] = Math.max(0, counts[VERDICT_FIELD[previous.verdict]] - 1);
      counts[VERDICT_FIELD[verdict.verdict]]++;
      await writeFileAtomic(path.join(this.dir, VERDICT_COUNTS_FILE), JSON.stringify(this.counts) + '\n');
      const entry = this.entries.find((e) => e.clipId === found.clipId);
      if (entry) entry.hasVerdict = true;
      return { meta, counts: { ...counts } };
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async pruneByAge(): Promise<void> {
    const cutoff = this.now() - this.limits.maxAgeMs;
    for (const e of this.entries.filter((x) => x.heardAt < cutoff)) await this.drop(e, 'droppedByAge');
  }

  private async makeRoom(newBytes: number): Promise<void> {
    const bytes = (): number => this.entries.reduce((s, e) => s + e.bytes, 0);
    while (this.entries.length > 0 && (this.entries.length + 1 > this.limits.maxClips || bytes() + newBytes > this.limits.maxBytes)) {
      const cause = this.entries.length + 1 > this.limits.maxClips ? 'droppedByCount' : 'droppedBySize';
      await this.drop(this.entries.find((e) => !e.hasVerdict) ?? this.entries[0]!, cause);
    }
  }

  private async drop(e: Entry, cause: 'droppedByCount' | 'droppedBySize' | 'droppedByAge'): Promise<void> {
    this.entries = this.entries.filter((x) => x !== e);
    this.figures[cause]++;
    // The JSON goes first: a clip without its JSON is never listed, and is cleaned up at the next open.
    await rm(path.join(this.dir, `${e.clipId}.json`), { force: true }).catch(() => undefined);
    await rm(path.join(this.dir, `${e.clipId}.wav`), { force: true }).catch(() => undefined);
    this.logger.info('evidence: clip dropped', { clipId: e.clipId, term: e.term, cause });
  }
}
