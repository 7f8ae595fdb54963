/// <reference path="./node-record-lpcm16.d.ts" />
/**
 * One arecord process, started through node-record-lpcm16 with its known flaws fenced off:
 * it attaches no 'error' listener to the child (a missing binary would crash the process),
 * emits a string 'error' on stdout whenever the recorder exits non-zero (also on a normal stop),
 * and hides the recorder's stderr behind the `debug` module. Here every child event has a
 * listener, exits are reported once with the last stderr lines, and kill() escalates to SIGKILL.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import lpcm16 from 'node-record-lpcm16';
import { SAMPLE_RATE } from './types.js';

export const RECORDER_COMMAND = 'arecord';
const STDERR_KEEP_CHARS = 4096;
const STDERR_TAIL_LINES = 3;

export interface RecorderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** A spawn or process error (ENOENT, EACCES, ...), if that is how it ended. */
  error?: Error;
  /** The recorder's last stderr lines, joined with ' | ' (e.g. "audio open error: No such device"). */
  stderrTail: string;
}

export interface RecorderHandlers {
  onData(chunk: Buffer): void;
  /** Called exactly once, when the process has ended for any reason. */
  onExit(exit: RecorderExit): void;
}

export interface RecorderProcess {
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  kill(graceMs: number): Promise<void>;
}

/** The full path of `command` in the directories of `pathEnv`, or undefined. */
export async function findOnPath(command: string, pathEnv: string = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** Starts arecord (raw S16_LE, 16 kHz, mono) and resolves once it has spawned. */
export function spawnRecorder(device: string | undefined, handlers: RecorderHandlers): Promise<RecorderProcess> {
  // audioType 'raw': a WAV stream carries a 32-bit length and arecord stops it at 2 GiB (~18 h).
  const recording = lpcm16.record({ recorder: RECORDER_COMMAND, audioType: 'raw', sampleRate: SAMPLE_RATE, channels: 1, device });
  const child = recording.process;
  const stdout = recording.stream();
  let stderrText = '';
  let exited = false;
  let exitError: Error | undefined;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const stderrTail = (): string =>
    stderrText.split('\n').map((l) => l.trim()).filter(Boolean).slice(-STDERR_TAIL_LINES).join(' | ');
  const onStderr = (chunk: Buffer): void => {
    stderrText = (stderrText + chunk.toString('utf8')).slice(-STDERR_KEEP_CHARS);
  };
  const onLibraryError = (): void => {
    // The library's "has exited with error code" string; the 'close' handler below reports exits.
  };
  const onError = (err: Error): void => {
    exitError ??= err;
    // A spawn failure may not be followed by 'close' on every Node version; report it now.
    if (child.pid === undefined) finish(null, null);
  };
  const onClose = (code: number | null, signal: NodeJS.Signals | null): void => finish(code, signal);
  function finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (exited) return;
    exited = true;
    stdout.off('data', handlers.onData);
    child.stderr?.off('data', onStderr);
    handlers.onExit({ code, signal, error: exitError, stderrTail: stderrTail() });
  }

  child.on('error', onError);
  stdout.on('error', onLibraryError);
  child.stderr?.on('data', onStderr);
  stdout.on('data', handlers.onData);
  child.on('close', onClose);

  const handle: RecorderProcess = {
    get pid() {
      return child.pid;
    },
    async kill(graceMs: number): Promise<void> {
      if (exited || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await closed;
      clearTimeout(escalate);
    },
  };
  return new Promise((resolve, reject) => {
    if (child.pid !== undefined) return resolve(handle);
    child.once('spawn', () => resolve(handle));
    child.once('error', (err: Error) => {
      if (child.pid === undefined) reject(err);
    });
  });
}
