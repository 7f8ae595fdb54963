/**
 * Runs the listening path over a site's recordings with a ScoreSink attached: what
 * `gearhear calibrate FILE|DIR...` measures. WAV is read directly; other formats (Ogg, FLAC, MP3)
 * are decoded by sox, as 16 kHz mono. The listening path itself is passed in (src/listen runs the
 * daemon's), so calibration depends on neither the daemon nor the CLI.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../audio/file.js';
import { SAMPLE_RATE } from '../audio/types.js';
import type { HeardDetection } from '../detection.js';
import type { ScoreSink } from '../kws/types.js';
import type { LabelledSpan, OccurrenceLog } from './occurrences.js';

export const AUDIO_EXTENSIONS = ['.wav', '.ogg', '.oga', '.opus', '.flac', '.mp3'];

/** Files named, and audio files under directories named (recursively, sorted), in order. */
export async function listRecordings(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw new Error(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, { cause: err });
    }
    if (!info.isDirectory()) {
      out.push(p);
      continue;
    }
    const entries = await readdir(p, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && AUDIO_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
      .map((e) => path.join(e.parentPath, e.name)).sort();
    if (files.length === 0) throw new Error(`${p}: no audio files (${AUDIO_EXTENSIONS.join(' ')}) in this directory`);
    out.push(...files);
  }
  return out;
}

/** 16 kHz mono samples of any file sox reads. */
export function decodeWithSox(file: string): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const child = spawn('sox', [file, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', String(SAMPLE_RATE), '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', (err) => reject(new Error(`${file}: cannot run sox to decode it (${err.message}); install sox (apt-get install sox libsox-fmt-all) or convert to WAV`, { cause: err })));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${file}: sox could not decode it: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`));
      const bytes = Buffer.concat(chunks);
      const pcm = new Float32Array(bytes.length >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(2 * i) / 32768;
      resolve(pcm);
    });
  });
}

export function readRecording(file: string): Promise<Float32Array> {
  return path.extname(file).toLowerCase() === '.wav' ? readWavFile(file) : decodeWithSox(file);
}

export interface ScoredRecordings {
  files: number;
  /** Seconds of audio, labelled spans excluded. */
  audioSec: number;
  /** Detections at the thresholds in use while scoring (the vocabulary's, or a calibration's). */
  detections: Array<HeardDetection & { file: string }>;
}

/** The listening path over one recording's samples (a fresh VAD each time), with `scores` as its score sink. */
export type ListenToSamples = (file: string, pcm: Float32Array, scores: ScoreSink) => Promise<{ durationSec: number; detections: HeardDetection[] }>;

/**
 * Feeds each recording through the listening path with `log` as the score sink; returns the audio
 * duration and the detections made at the current thresholds.
 */
export async function scoreRecordings(files: readonly string[], log: OccurrenceLog, labels: readonly LabelledSpan[],
  listen: ListenToSamples, onFile?: (file: string, index: number) => void): Promise<ScoredRecordings> {
  const result: ScoredRecordings = { files: 0, audioSec: 0, detections: [] };
  for (const [i, file] of files.entries()) {
    onFile?.(file, i);
    const pcm = await readRecording(file);
    log.file = file;
    const run = await listen(file, pcm, log);
    const inLabel = (d: HeardDetection): boolean => labels.some((l) => l.file === file && (l.term === null || l.term === d.term) && d.start < l.end + 0.5 && d.end > l.start - 0.5);
    result.detections.push(...run.detections.filter((d) => !inLabel(d)).map((d) => ({ ...d, file })));
    const labelled = labels.filter((l) => l.file === file).reduce((sum, l) => sum + Math.max(0, Math.min(l.end, run.durationSec) - Math.max(0, l.start)), 0);
    result.audioSec += Math.max(0, run.durationSec - labelled);
    result.files++;
  }
  return result;
}

/**
 * A labels file: one span per line, `FILE START END [TERM]` separated by tabs or spaces (seconds;
 * FILE as given on the command line, or relative to the labels file); `#` comments. Without TERM
 * any term may be said there. Audacity label tracks (`START END TEXT`) need the FILE column added.
 */
export async function readLabels(labelsFile: string): Promise<LabelledSpan[]> {
  let text: string;
  try {
    text = await readFile(labelsFile, 'utf8');
  } catch (err) {
    throw new Error(`cannot read labels file ${labelsFile}: ${(err as Error).message}`, { cause: err });
  }
  const spans: LabelledSpan[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const parts = line.includes('\t') ? line.split('\t').map((p) => p.trim()) : line.split(/\s+/);
    const [file, startText, endText, ...termParts] = parts;
    const start = Number(startText);
    const end = Number(endText);
    if (!file || !Number.isFinite(start) || !Number.isFinite(end) || end < start || start < 0) {
      problems.push(`${labelsFile}:${i + 1}: expected "FILE START END [TERM]" with START <= END in seconds, got "${line}"`);
      return;
    }
    const term = termParts.join(' ').trim().toLowerCase().replace(/\s+/g, ' ');
    spans.push({ file: path.isAbsolute(file) ? file : file, start, end, term: term || null });
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return spans;
}

/** Labels name files as the user wrote them; match them to listed recordings by resolved path. */
export function matchLabels(spans: readonly LabelledSpan[], files: readonly string[], labelsFile: string): { spans: LabelledSpan[]; unmatched: string[] } {
  const byResolved = new Map(files.map((f) => [path.resolve(f), f]));
  const out: LabelledSpan[] = [];
  const unmatched = new Set<string>();
  for (const s of spans) {
    const hit = byResolved.get(path.resolve(s.file)) ?? byResolved.get(path.resolve(path.dirname(labelsFile), s.file));
    if (hit) out.push({ ...s, file: hit });
    else unmatched.add(s.file);
  }
  return { spans: out, unmatched: [...unmatched] };
}
