/** Benchmarks of the running daemon against a real broker: detection latency, memory, CPU in silence and noise. */
import { readWavFile } from '../src/audio/file.js';
import { SAMPLE_RATE } from '../src/audio/types.js';
import { median, percentile, round, seededRandom } from './lib/common.js';
import { NoisePool, readManifest, scaleTo } from './lib/data.js';
import { cpuPercent, runDaemonChild, type DaemonRunResult } from './lib/daemon-child.js';
import type { Recording } from './lib/recording.js';
import { SPAN_SLACK_SEC } from './lib/scoring.js';

export interface LatencyResult {
  audioSec: number;
  utterances: number;
  detections: number;
  /** Detections matched to a spoken term: arrival at the broker's subscriber - end of the term in the audio. */
  fromTermEndMs: { n: number; p50: number; p95: number; max: number };
  /** Every detection: arrival - the end time the detection itself reports. */
  fromDetectedEndMs: { n: number; p50: number; p95: number; max: number };
  exitCode: number | null;
}

export interface MemoryResult {
  rssAfterLoadMb: number;
  rssSteadyMb: number;
  rssPeakMb: number;
  heapUsedMedianMb: number;
  heapUsedMaxMb: number;
  cpuPctWhileSpeaking: number;
}

const summary = (xs: number[]): LatencyResult['fromTermEndMs'] => ({
  n: xs.length, p50: round(percentile(xs, 50), 0), p95: round(percentile(xs, 95), 0), max: round(xs.length ? Math.max(...xs) : NaN, 0),
});

/** The daemon on `rec` (utterances ending in a term), paced at real time; health every 2 s for the heap. */
export async function measureLatency(rec: Recording, brokerUrl: string, env: Record<string, string>): Promise<{ latency: LatencyResult; memory: MemoryResult; run: DaemonRunResult }> {
  const audio = await readWavFile(rec.file);
  const run = await runDaemonChild({ brokerUrl, audio, speed: 1, env: { ...env, GEARHEAR_HEALTH_INTERVAL_S: '2' } });
  const fromTermEnd: number[] = [];
  for (const a of run.arrivals) {
    const mid = (a.start + a.end) / 2;
    const u = rec.utterances.find((x) => mid >= x.start - SPAN_SLACK_SEC && mid <= x.end + SPAN_SLACK_SEC && x.allowed.includes(a.term));
    if (u && u.targets.includes(a.term)) fromTermEnd.push(a.at - (run.t0 + (u.end * 1000) / run.speed));
  }
  const fromDetectedEnd = run.arrivals.map((a) => a.at - (run.t0 + (a.end * 1000) / run.speed));
  const speaking = run.proc.filter((p) => p.at <= run.audioEndAt);
  const secondHalf = speaking.slice(Math.floor(speaking.length / 2));
  const heap = run.health.map((h) => h.heapUsedMb);
  return {
    run,
    latency: {
      audioSec: round(run.audioSec, 1), utterances: rec.utterances.length, detections: run.arrivals.length,
      fromTermEndMs: summary(fromTermEnd), fromDetectedEndMs: summary(fromDetectedEnd), exitCode: run.exitCode,
    },
    memory: {
      rssAfterLoadMb: round(run.procAtStart?.rssMb ?? NaN, 1),
      rssSteadyMb: round(median(secondHalf.map((p) => p.rssMb)), 1),
      rssPeakMb: round(Math.max(...run.proc.map((p) => p.hwmMb), 0), 1),
      heapUsedMedianMb: round(median(heap), 1),
      heapUsedMaxMb: round(heap.length ? Math.max(...heap) : NaN, 1),
      cpuPctWhileSpeaking: round(cpuPercent(speaking), 1),
    },
  };
}

export interface IdleCpuResult {
  seconds: number;
  silencePct: number;
  machineNoisePct: number;
  machineNoiseLevelDbfs: number;
  detectionsInNoise: number;
}

/** CPU use (% of one core) of the daemon fed `seconds` of digital silence, then of steady machine noise. */
export async function measureIdleCpu(seconds: number, brokerUrl: string, env: Record<string, string>): Promise<IdleCpuResult> {
  const silence = new Float32Array(seconds * SAMPLE_RATE);
  const pool = await NoisePool.load(await readManifest(), 4);
  const noise = scaleTo(pool.cut(seconds * SAMPLE_RATE, seededRandom(7)).samples, NOISE_RMS);
  const cpuOf = async (audio: Float32Array): Promise<{ pct: number; detections: number }> => {
    const run = await runDaemonChild({ brokerUrl, audio, speed: 1, env });
    // Skip the first second (start-up work still settling); stop at the end of the audio (not the shutdown).
    const window = run.proc.filter((p) => p.at >= run.t0 + 1000 && p.at <= run.audioEndAt);
    return { pct: round(cpuPercent(window), 2), detections: run.arrivals.length };
  };
  const s = await cpuOf(silence);
  const n = await cpuOf(noise);
  return { seconds, silencePct: s.pct, machineNoisePct: n.pct, machineNoiseLevelDbfs: round(20 * Math.log10(NOISE_RMS), 1), detectionsInNoise: n.detections };
}

/** Steady machine noise at about -26 dBFS: a loud plant room picked up by a nearby mic. */
const NOISE_RMS = 0.05;
