import { ConfigError, EX_CONFIG, loadConfig } from '../config/index.js';
import type { GearhearConfig } from '../config/types.js';
import { Daemon, EXIT_RESTART, startFailureExitCode } from '../daemon/daemon.js';
import { createLogger, type Logger } from '../log.js';
import { exitCodeFor } from './exit-code.js';
import { parseSetFlags } from './set-flags.js';
import { packageVersion } from './version.js';
import { parseCommandArgs } from './usage.js';

/** SIGTERM/SIGINT: everything is stopped and flushed within this; then we exit regardless. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/** Loads config or prints a ConfigError and returns null (the caller exits 78). */
export function loadConfigOrReport(args: { config?: string; set?: string[] }): GearhearConfig | null {
  try {
    return loadConfig({ configFile: args.config, argvOverrides: parseSetFlags(args.set ?? []) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gearhear: configuration error: ${err.message}\n`);
      return null;
    }
    throw err;
  }
}

/** Runs the daemon until the input ends or a signal arrives; resolves with the exit code. */
export async function runDaemon(config: GearhearConfig, logger: Logger, beforeListening?: (d: Daemon) => Promise<void>): Promise<number> {
  const daemon = new Daemon({ config, logger, version: packageVersion(), beforeListening });
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info('signal', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown took longer than the deadline; exiting now', { deadlineMs: SHUTDOWN_DEADLINE_MS });
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    void daemon.stop(`signal ${signal}`, 0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await daemon.start();
  } catch (err) {
    logger.error('could not start', { error: (err as Error).message });
    process.stderr.write(`gearhear: ${(err as Error).message}\n`);
    // Its own exit code wins (78 for an unwritable state dir); else 78 for bad config, vocabulary or model, else 1.
    const code = startFailureExitCode(err, exitCodeFor(err));
    await daemon.stop('start failed', code);
    return code;
  } finally {
    // Signal handlers stay until the daemon has finished stopping.
    void daemon.finished.then(() => { process.off('SIGTERM', onSignal); process.off('SIGINT', onSignal); });
  }
  return daemon.finished;
}

/** `gearhear run [--config FILE] [--set key=value ...]`. */
export async function runDaemonCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('run', { args, options: { config: { type: 'string' }, set: { type: 'string', multiple: true } } });
  if (typeof parsed === 'number') return parsed;
  for (;;) {
    // Read again on every start: `request/restart` picks up a changed config file.
    const config = loadConfigOrReport(parsed.values);
    if (!config) return EX_CONFIG;
    const logger = createLogger(config.log.level);
    const code = await runDaemon(config, logger);
    if (code !== EXIT_RESTART) return code;
    logger.info('restarting', { reason: 'request/restart' });
  }
}
