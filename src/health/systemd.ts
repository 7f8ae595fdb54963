/**
 * SystemdNotifier: sd_notify without a native addon, by running `systemd-notify`. A no-op when
 * NOTIFY_SOCKET is not set (not started by systemd with Type=notify).
 *
 * The unit needs `NotifyAccess=all`: the messages come from the systemd-notify child, not the main PID.
 *
 * Watchdog: pings (WATCHDOG=1) go out every WATCHDOG_USEC / 2, but only when an audio frame was seen
 * since the previous ping. A daemon whose capture has silently stalled stops pinging and systemd
 * restarts it; a busy-but-alive event loop is not enough to count as healthy.
 */
import { execFile } from 'node:child_process';
import { silentLogger, type Logger } from '../log.js';

export interface SystemdNotifierOptions {
  /** Default process.env: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID come from here and are passed on to the child. */
  env?: NodeJS.ProcessEnv;
  /** Default `systemd-notify` (looked up on the env's PATH). */
  binary?: string;
  /** Default process.pid; compared with WATCHDOG_PID. */
  pid?: number;
  /** Default 5000. */
  timeoutMs?: number;
  logger?: Logger;
}

export class SystemdNotifier {
  /** True when running under systemd with a notify socket. */
  readonly enabled: boolean;
  /** Time between watchdog checks (half of WATCHDOG_USEC), or null when systemd asked for no watchdog. */
  readonly watchdogIntervalMs: number | null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly binary: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private framesSinceLastPing = 0;
  private lastPingAt = Date.now();
  private stallReported = false;
  private pending = new Set<Promise<boolean>>();

  constructor(options: SystemdNotifierOptions = {}) {
    this.env = options.env ?? process.env;
    this.binary = options.binary ?? 'systemd-notify';
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.logger = options.logger ?? silentLogger;
    this.enabled = Boolean(this.env.NOTIFY_SOCKET);
    const usec = Number(this.env.WATCHDOG_USEC);
    const forUs = !this.env.WATCHDOG_PID || Number(this.env.WATCHDOG_PID) === (options.pid ?? process.pid);
    this.watchdogIntervalMs = this.enabled && forUs && Number.isFinite(usec) && usec > 0 ? usec / 1000 / 2 : null;
  }

  /** READY=1 (with an optional status line). Resolves true when systemd-notify succeeded, false otherwise or when disabled. */
  ready(status?: string): Promise<boolean> {
    return this.send(['--ready', ...(status ? [`STATUS=${status}`] : [])]);
  }

  status(text: string): Promise<boolean> {
    return this.send([`STATUS=${text}`]);
  }

  stopping(): Promise<boolean> {
    return this.send(['STOPPING=1']);
  }

  /** Call for every audio frame (cheap: a counter). */
  frameSeen(): void {
    this.framesSinceLastPing++;
  }

  /** Starts the watchdog timer (when systemd asked for one). */
  start(): void {
    if (this.timer || this.watchdogIntervalMs === null) return;
    this.lastPingAt = Date.now();
    this.timer = setInterval(() => void this.checkWatchdog(), this.watchdogIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for notifications still running. Does not send STOPPING=1 (call stopping()). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.pending);
  }

  /** One watchdog check: pings if frames flowed since the last ping. Returns whether it pinged. */
  async checkWatchdog(): Promise<boolean> {
    if (!this.enabled) return false;
    if (this.framesSinceLastPing === 0) {
      if (!this.stallReported) {
        this.stallReported = true;
        this.logger.warn('no audio frames: withholding the systemd watchdog ping', { sinceLastPingMs: Date.now() - this.lastPingAt });
      }
      return false;
    }
    this.framesSinceLastPing = 0;
    this.stallReported = false;
    this.lastPingAt = Date.now();
    return this.send(['WATCHDOG=1']);
  }

  private send(args: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    const run = new Promise<boolean>((resolve) => {
      execFile(this.binary, args, { env: this.env, timeout: this.timeoutMs }, (err, _stdout, stderr) => {
        if (err) this.logger.warn('systemd-notify failed', { args: args.join(' '), error: err.message, stderr: String(stderr).trim() });
        resolve(!err);
      });
    });
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return run;
  }
}
