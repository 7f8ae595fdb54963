/**
 * bench:memory, stdin section (issue 11, item 6): the daemon (`gearhear run`, audio.source=stdin)
 * against a real mosquitto, fed raw PCM as fast as it reads it; peak RSS against the audio's length.
 * Before the backpressure, 34 minutes peaked at 354 MB and six hours ran out of the memory budget.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileAsync, repoRoot } from './lib/common.js';
import { startBroker } from './lib/broker.js';
import { longRecording, runForPeak } from './lib/peak.js';

export interface StdinRow { minutes: number; peakMb: number; wallSec: number; detections: number }

export async function benchStdin(minutesList: number[]): Promise<StdinRow[]> {
  const broker = await startBroker();
  const rows: StdinRow[] = [];
  try {
    for (const minutes of minutesList) {
      const wav = await longRecording(minutes, [], '16k-mono');
      const raw = `${wav}.raw`;
      await execFileAsync('sox', [wav, '-t', 'raw', '-e', 'signed-integer', '-b', '16', raw]);
      const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-bench-stdin-'));
      try {
        const run = await runForPeak([path.join(repoRoot, 'dist/src/cli/main.js'), 'run'], {
          stdin: raw,
          env: {
            ...process.env, GEARHEAR_AUDIO_SOURCE: 'stdin', GEARHEAR_MQTT_URL: broker.url, GEARHEAR_STATE_DIR: stateDir,
            GEARHEAR_DEVICE_ID: 'bench-stdin', GEARHEAR_LOG_LEVEL: 'info', GEARHEAR_VAD_ENGINE: 'energy',
          },
        });
        if (run.code !== 0) throw new Error(`gearhear run on stdin exited ${run.code}: ${run.stderr.slice(-800)}`);
        const detections = run.stderr.split('\n').filter((l) => l.includes('"msg":"detection"')).length;
        rows.push({ minutes, peakMb: run.peakMb, wallSec: run.wallSec, detections });
      } finally {
        await rm(stateDir, { recursive: true, force: true });
        await rm(raw, { force: true });
      }
    }
  } finally {
    await broker.close();
  }
  return rows;
}
