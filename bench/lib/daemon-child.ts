/**
 * Runs the daemon (`gearhear run`) as a child process with the bench as its microphone: 16 kHz PCM
 * written to its stdin in 100 ms chunks, each when it is complete (as a sound card delivers it),
 * at real time or faster. Records when each detection reaches the broker, the health messages, and
 * /proc samples of the child (memory, CPU).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { repoRoot, sleep } from './common.js';
import { sampleProc, type ProcSample } from './proc.js';

export interface DaemonRunOptions {
  brokerUrl: string;
  /** 16 kHz mono audio; looped until `durationSec` of audio has been sent (default: once). */
  audio: Float32Array;
  durationSec?: number;
  /** 1 = real time; 10 = ten times faster. */
  speed?: number;
  /** Extra GEARHEAR_* settings (strings), e.g. GEARHEAR_MODEL_VARIANT. */
  env?: Record<string, string>;
  chunkMs?: number;
  procSampleMs?: number;
  /** Called about once a second with the seconds of audio sent so far (the soak restarts the broker here). */
  onProgress?: (audioSec: number) => Promise<void>;
  /** Called with each /proc sample as it is taken (the soak keeps a trail on disk with it). */
  onSample?: (sample: ProcSample) => void;
}

export interface Arrival {
  /** ms since the epoch when the subscriber got it. */
  at: number;
  seq: number;
  term: string;
  start: number;
  end: number;
  confidence: number;
}

export interface DaemonRunResult {
  /** ms since the epoch at audio offset 0: sample s is delivered by t0 + s / rate / speed. */
  t0: number;
  speed: number;
  audioSec: number;
  arrivals: Arrival[];
  health: Array<{ at: number; rssMb: number; heapUsedMb: number }>;
  /** Samples from the moment audio started until the child exited. */
  proc: ProcSample[];
  /** The sample taken just before audio started (after model load). */
  procAtStart: ProcSample | null;
  /** ms since the epoch when the last audio was written. */
  audioEndAt: number;
  exitCode: number | null;
  /** Detections the daemon logged (made), to compare with those that arrived. */
  detectionsLogged: number;
  stderrTail: string;
}

const BASE_TOPIC = 'gearhear-bench';

export async function runDaemonChild(opts: DaemonRunOptions): Promise<DaemonRunResult> {
  const speed = opts.speed ?? 1;
  const chunk = Math.round(((opts.chunkMs ?? 100) * SAMPLE_RATE) / 1000);
  const total = Math.round((opts.durationSec ?? opts.audio.length / SAMPLE_RATE) * SAMPLE_RATE);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-bench-state-'));
  const deviceId = `bench-${process.pid}-${Date.now() % 100000}`;
  const arrivals: Arrival[] = [];
  const health: DaemonRunResult['health'] = [];
  // A persistent session: the broker queues detections for the subscriber while it reconnects after a broker restart.
  const sub = await mqtt.connectAsync(opts.brokerUrl, { reconnectPeriod: 200, clientId: `${deviceId}-sub`, clean: false });
  sub.on('error', () => undefined); // reconnects on its own across broker restarts
  sub.on('connect', () => void sub.subscribeAsync(`${BASE_TOPIC}/${deviceId}/#`, { qos: 1 }).catch(() => undefined));
  sub.on('message', (topic, payload) => {
    const at = Date.now();
    if (topic.endsWith('/detection')) {
      const m = JSON.parse(payload.toString()) as Arrival;
      arrivals.push({ at, seq: m.seq, term: m.term, start: m.start, end: m.end, confidence: m.confidence });
    } else if (topic.endsWith('/health')) {
      const h = JSON.parse(payload.toString()) as { process?: { rssMb: number; heapUsedMb: number } };
      if (h.process) health.push({ at, rssMb: h.process.rssMb, heapUsedMb: h.process.heapUsedMb });
    }
  });
  await sub.subscribeAsync(`${BASE_TOPIC}/${deviceId}/#`, { qos: 1 });

  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'run'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {
      ...process.env, GEARHEAR_AUDIO_SOURCE: 'stdin', GEARHEAR_MQTT_URL: opts.brokerUrl, GEARHEAR_DEVICE_ID: deviceId,
      GEARHEAR_MQTT_BASE_TOPIC: BASE_TOPIC, GEARHEAR_STATE_DIR: stateDir, GEARHEAR_LOG_LEVEL: 'info', ...opts.env,
    },
  });
  let stderr = '';
  let partial = '';
  let detectionsLogged = 0;
  let listening!: () => void;
  const ready = new Promise<void>((r) => { listening = r; });
  child.stderr.on('data', (c: Buffer) => {
    const text = c.toString();
    stderr = (stderr + text).slice(-20_000);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"msg":"listening"')) listening();
      else if (line.includes('"msg":"detection"')) detectionsLogged++;
    }
  });
  child.stdin.on('error', () => undefined); // EPIPE if it dies; reported by the exit code
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const proc: ProcSample[] = [];
  let procAtStart: ProcSample | null = null;
  try {
    const ok = await Promise.race([ready.then(() => true), exited.then(() => false), sleep(120_000).then(() => false)]);
    if (!ok) throw new Error(`the daemon did not start listening; its log ends:\n${stderr.slice(-3000)}`);
    procAtStart = await sampleProc(child.pid!);
    const sampler = setInterval(() => void sampleProc(child.pid!).then((s) => { if (s) { proc.push(s); opts.onSample?.(s); } }), opts.procSampleMs ?? 500);
    const t0 = Date.now();
    let sent = 0;
    let lastProgress = 0;
    while (sent < total) {
      const n = Math.min(chunk, total - sent);
      const due = t0 + ((sent + n) * 1000) / SAMPLE_RATE / speed;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      child.stdin.write(toS16(opts.audio, sent, n));
      sent += n;
      if (opts.onProgress && sent / SAMPLE_RATE - lastProgress >= speed) {
        lastProgress = sent / SAMPLE_RATE;
        await opts.onProgress(lastProgress);
      }
      if (child.exitCode !== null) break;
    }
    const audioEndAt = Date.now();
    child.stdin.end();
    const exitCode = await Promise.race([exited, sleep(60_000).then(() => { child.kill('SIGKILL'); return null; })]);
    clearInterval(sampler);
    await sleep(500); // the last messages are on their way to the subscriber
    return { t0, speed, audioSec: sent / SAMPLE_RATE, arrivals, health, proc, procAtStart, audioEndAt, exitCode, detectionsLogged, stderrTail: stderr.slice(-3000) };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await sub.endAsync(true).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Samples [from, from+n) of `audio` (looped) as s16le bytes. */
function toS16(audio: Float32Array, from: number, n: number): Buffer {
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const v = Math.max(-1, Math.min(1, audio[(from + i) % audio.length]!));
    buf.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  return buf;
}

/** CPU use (% of one core) between the first and last /proc sample. */
export function cpuPercent(samples: readonly ProcSample[]): number {
  if (samples.length < 2) return NaN;
  const a = samples[0]!, b = samples[samples.length - 1]!;
  return (100 * (b.cpuSec - a.cpuSec)) / ((b.at - a.at) / 1000);
}
