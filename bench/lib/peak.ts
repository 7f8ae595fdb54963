/**
 * Peak resident memory of a child process, and long recordings to feed it: what the sections of
 * bench:memory (bench/memory*.ts) share.
 */
import { spawn } from 'node:child_process';
import { existsSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { cacheDir, execFileAsync, repoRoot, round } from './common.js';
import { sampleProc } from './proc.js';

const DEMO = path.join(repoRoot, 'demo/machine-room.wav');

export interface PeakRun {
  code: number | null;
  peakMb: number;
  wallSec: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` to its end, sampling VmHWM every 50 ms (the last sample is the peak). */
export async function runForPeak(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<PeakRun> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  if (options.stdin) {
    createReadStream(options.stdin).pipe(child.stdin);
  } else child.stdin.end();
  let peakMb = 0;
  const timer = setInterval(() => {
    void sampleProc(child.pid!).then((s) => {
      if (s && Number.isFinite(s.hwmMb)) peakMb = Math.max(peakMb, s.hwmMb); // an exiting process has no VmHWM
    });
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  return { code, peakMb: round(peakMb, 1), wallSec: round((performance.now() - started) / 1000, 1), stdout, stderr };
}

/** The demo recording repeated to about `minutes`, converted with sox (cached). */
export async function longRecording(minutes: number, soxArgs: string[], tag: string): Promise<string> {
  const dir = await cacheDir('memory');
  const file = path.join(dir, `demo-${minutes}min-${tag}.wav`);
  if (!existsSync(file)) {
    const repeats = Math.max(0, Math.ceil((minutes * 60) / 20.23) - 1);
    await execFileAsync('sox', [DEMO, ...soxArgs, file, 'repeat', String(repeats), 'trim', '0', String(minutes * 60)]);
  }
  return file;
}
