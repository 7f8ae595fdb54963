/**
 * Soak: the daemon fed a recording in a loop, faster than real time, while the broker is restarted
 * every few minutes. Reports resident-memory growth per hour and whether every detection arrived.
 */
import { appendFileSync } from 'node:fs';
import { readWavFile } from '../src/audio/file.js';
import { round, sleep } from './lib/common.js';
import type { Broker } from './lib/broker.js';
import { runDaemonChild } from './lib/daemon-child.js';
import type { Recording } from './lib/recording.js';

export interface SoakOptions {
  /** Minutes of audio to feed in all (at `speed`, wall time is this / speed). */
  audioMinutes: number;
  speed: number;
  /** Wall seconds between broker restarts. */
  restartEverySec: number;
  /** Wall seconds the broker stays down each time. */
  downSec: number;
  env: Record<string, string>;
  /** If set, a JSON line a minute (wall min, audio min, RSS, restarts) is appended here, so a run cut short still tells its story. */
  trailFile?: string;
}

export interface SoakResult {
  audioMinutes: number;
  wallMinutes: number;
  speed: number;
  brokerRestarts: number;
  rssStartMb: number;
  rssEndMb: number;
  /** Least-squares slope of RSS over wall time, and per hour of audio. */
  rssGrowthMbPerWallHour: number;
  rssGrowthMbPerAudioHour: number;
  detectionsMade: number;
  detectionsArrived: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Sequence numbers missing between the first and last that arrived. */
  missingSeqs: number[];
  duplicates: number;
  allArrived: boolean;
  exitCode: number | null;
}

export async function runSoak(rec: Recording, broker: Broker, o: SoakOptions): Promise<SoakResult> {
  const audio = await readWavFile(rec.file);
  let restarts = 0;
  let pendingRestart: Promise<void> = Promise.resolve();
  let nextRestart = o.restartEverySec;
  const started = Date.now();
  let audioSecSent = 0;
  let nextTrail = 0;
  const run = await runDaemonChild({
    onSample: (s) => {
      if (!o.trailFile || s.at < nextTrail) return;
      nextTrail = s.at + 60_000;
      const line = { wallMin: round((s.at - started) / 60_000, 2), audioMin: round(audioSecSent / 60, 1), rssMb: s.rssMb, brokerRestarts: restarts };
      appendFileSync(o.trailFile, JSON.stringify(line) + '\n');
    },
    brokerUrl: broker.url, audio, durationSec: o.audioMinutes * 60, speed: o.speed, env: o.env, procSampleMs: 1000,
    onProgress: async (audioSec) => {
      audioSecSent = audioSec;
      if ((Date.now() - started) / 1000 < nextRestart) return;
      nextRestart += o.restartEverySec;
      await broker.stop();
      // Not awaited: audio keeps flowing while the broker is down.
      pendingRestart = sleep(o.downSec * 1000).then(() => broker.restart()).then(() => { restarts++; });
    },
  });
  await pendingRestart; // never leave the broker stopped (or a restart racing the caller's close)
  const wallHours = (Date.now() - started) / 3_600_000;
  // Skip the first tenth: start-up allocations are not growth.
  const samples = run.proc.slice(Math.floor(run.proc.length / 10));
  const slopePerMs = slope(samples.map((p) => p.at), samples.map((p) => p.rssMb));
  const seqs = run.arrivals.map((a) => a.seq).sort((a, b) => a - b);
  const unique = [...new Set(seqs)];
  const missing: number[] = [];
  for (let i = 1; i < unique.length; i++) for (let s = unique[i - 1]! + 1; s < unique[i]!; s++) missing.push(s);
  return {
    audioMinutes: round(run.audioSec / 60, 2), wallMinutes: round(wallHours * 60, 2), speed: o.speed, brokerRestarts: restarts,
    rssStartMb: round(samples[0]?.rssMb ?? NaN, 1), rssEndMb: round(samples.at(-1)?.rssMb ?? NaN, 1),
    rssGrowthMbPerWallHour: round(slopePerMs * 3_600_000, 1), rssGrowthMbPerAudioHour: round((slopePerMs * 3_600_000) / o.speed, 1),
    detectionsMade: run.detectionsLogged, detectionsArrived: unique.length, firstSeq: unique[0] ?? null, lastSeq: unique.at(-1) ?? null, missingSeqs: missing.slice(0, 50), duplicates: seqs.length - unique.length,
    allArrived: missing.length === 0 && unique.length >= run.detectionsLogged, exitCode: run.exitCode,
  };
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2; }
  return den > 0 ? num / den : NaN;
}
