/**
 * MicSource: a supervised arecord capture loop. A recorder that exits is restarted with
 * exponential backoff; a recorder that goes silent (no bytes for stallTimeoutMs) is killed and
 * restarted. Sample offsets keep counting across restarts (they count delivered samples, so the
 * audio missed while restarting is not represented).
 */
import { EventEmitter } from 'node:events';
import { AudioSourceError, SAMPLE_RATE, type AudioSource, type AudioSourceEvents } from './types.js';
import { S16leDecoder } from './pcm.js';
import { findOnPath, RECORDER_COMMAND, spawnRecorder, type RecorderExit, type RecorderProcess } from './recorder.js';
import { silentLogger, type Logger } from '../log.js';
import { backoffDelayMs } from '../backoff.js';
import { emitErrorIfHeard } from '../events.js';

export const MIC_DEFAULTS = {
  restartInitialDelayMs: 500,
  restartMaxDelayMs: 30_000,
  stallTimeoutMs: 5_000,
  killGraceMs: 2_000,
  /** A recorder that has delivered this much audio is healthy again: the backoff starts over. */
  healthyAfterSamples: SAMPLE_RATE,
} as const;

export interface MicSourceOptions {
  /** ALSA device name (e.g. `plughw:CARD=Device`); arecord's default device when absent. */
  device?: string;
  restartInitialDelayMs?: number;
  restartMaxDelayMs?: number;
  /** No bytes for this long counts as a stall (status 'stalled', recorder restarted). */
  stallTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  logger?: Logger;
}

type Settings = Required<Omit<MicSourceOptions, 'device' | 'logger'>> & { healthyAfterSamples: number };

export class MicSource extends EventEmitter<AudioSourceEvents> implements AudioSource {
  readonly description: string;
  private readonly device: string | undefined;
  private readonly settings: Settings;
  private readonly log: Logger;
  private readonly decoder = new S16leDecoder();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private recorder: RecorderProcess | undefined;
  private offset = 0;
  private samplesFromRecorder = 0;
  private restartFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** A launch() in progress, which shutdown() waits for so that no recorder outlives stop(). */
  private launching: Promise<void> | undefined;

  constructor(options: MicSourceOptions = {}) {
    super();
    this.device = options.device;
    this.settings = {
      restartInitialDelayMs: options.restartInitialDelayMs ?? MIC_DEFAULTS.restartInitialDelayMs,
      restartMaxDelayMs: options.restartMaxDelayMs ?? MIC_DEFAULTS.restartMaxDelayMs,
      stallTimeoutMs: options.stallTimeoutMs ?? MIC_DEFAULTS.stallTimeoutMs,
      killGraceMs: options.killGraceMs ?? MIC_DEFAULTS.killGraceMs,
      healthyAfterSamples: MIC_DEFAULTS.healthyAfterSamples,
    };
    this.log = options.logger ?? silentLogger;
    this.description = `mic:${this.device ?? 'default'}`;
  }

  /** The running recorder's process id (for health reports and tests). */
  get recorderPid(): number | undefined {
    return this.recorder?.pid;
  }

  /**
   * Resolves once arecord has spawned. Rejects with a fatal AudioSourceError when arecord is
   * not installed. Later failures (device errors, exits, stalls) are supervised: non-fatal
   * 'error' events (only when someone listens; otherwise logged) and 'status' events.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw this.error(`${this.description} cannot be started again (a source starts once)`, true);
    this.state = 'running';
    if (!(await findOnPath(RECORDER_COMMAND))) {
      this.state = 'stopped';
      throw this.error(`${RECORDER_COMMAND} not found on PATH; install alsa-utils`, true);
    }
    if (this.state !== 'running') return; // stop() was called while we looked
    try {
      await this.launchTracked();
    } catch (err) {
      this.state = 'stopped';
      throw this.error(`cannot start ${RECORDER_COMMAND}: ${err instanceof Error ? err.message : String(err)}`, true, err);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const wasStarted = this.state !== 'idle';
    this.state = 'stopped';
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    await this.launching?.catch(() => undefined); // launch() kills what it started once it sees 'stopped'
    const recorder = this.recorder;
    this.recorder = undefined;
    await recorder?.kill(this.settings.killGraceMs);
    if (wasStarted) this.emit('status', { state: 'stopped' });
  }

  private launchTracked(): Promise<void> {
    const launching = this.launch().finally(() => {
      if (this.launching === launching) this.launching = undefined;
    });
    this.launching = launching;
    return launching;
  }

  private async launch(): Promise<void> {
    this.decoder.reset();
    this.samplesFromRecorder = 0;
    let current: RecorderProcess | undefined;
    const isCurrent = (): boolean => current !== undefined && this.recorder === current;
    current = await spawnRecorder(this.device, {
      onData: (chunk) => {
        if (isCurrent()) this.onData(chunk);
      },
      onExit: (exit) => {
        if (isCurrent()) this.onUnexpectedExit(exit);
      },
    });
    if (this.state === 'stopped') {
      await current.kill(this.settings.killGraceMs);
      return;
    }
    this.recorder = current;
    this.log.info('recorder started', { device: this.description, pid: current.pid });
    this.stallTimer = setTimeout(() => this.onStall(), this.settings.stallTimeoutMs);
  }

  private onData(chunk: Buffer): void {
    this.stallTimer?.refresh();
    const samples = this.decoder.push(chunk);
    if (samples.length === 0) return;
    if (this.samplesFromRecorder === 0) this.emit('status', { state: 'running' });
    this.samplesFromRecorder += samples.length;
    if (this.samplesFromRecorder >= this.settings.healthyAfterSamples) this.restartFailures = 0;
    const offset = this.offset;
    this.offset += samples.length;
    this.emit('data', { samples, offset });
  }

  private onUnexpectedExit(exit: RecorderExit): void {
    this.recorder = undefined;
    clearTimeout(this.stallTimer);
    const how = exit.error ? exit.error.message : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const message = `${RECORDER_COMMAND} (${this.description}) ${how}${exit.stderrTail ? `: ${exit.stderrTail}` : ''}`;
    this.report(this.error(message, false, exit.error));
    this.scheduleRestart();
  }

  private onStall(): void {
    const recorder = this.recorder;
    if (!recorder || this.state !== 'running') return;
    this.recorder = undefined;
    const detail = `no audio from ${RECORDER_COMMAND} (${this.description}) for ${this.settings.stallTimeoutMs} ms`;
    this.log.warn('recorder stalled', { device: this.description, pid: recorder.pid });
    this.emit('status', { state: 'stalled', detail });
    void recorder.kill(this.settings.killGraceMs);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.state !== 'running') return;
    const delayMs = backoffDelayMs(this.restartFailures++, { minDelayMs: this.settings.restartInitialDelayMs, maxDelayMs: this.settings.restartMaxDelayMs });
    // The reason was said once already (the 'error' or the 'stalled' status): not repeated here.
    this.emit('status', { state: 'restarting', detail: `restarting in ${delayMs} ms` });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'running') return;
      this.launchTracked().catch((err: unknown) => {
        const message = `cannot restart ${RECORDER_COMMAND}: ${err instanceof Error ? err.message : String(err)}`;
        this.report(this.error(message, false, err));
        this.scheduleRestart();
      });
    }, delayMs);
  }

  /** Non-fatal errors go to 'error' listeners if there are any (an unheard 'error' would throw), else to the log: once either way. */
  private report(error: AudioSourceError): void {
    if (!emitErrorIfHeard(this, error)) this.log.warn(error.message, { device: this.description });
  }

  private error(message: string, fatal: boolean, cause?: unknown): AudioSourceError {
    return new AudioSourceError(message, this.description, fatal, { cause });
  }
}
