import type { ConfigSource } from './types.js';

/** sysexits.h EX_CONFIG: the daemon exits with this when its configuration is wrong (systemd won't loop on it with RestartPreventExitStatus=78). */
export const EX_CONFIG = 78;

export { MASK } from '../redact.js';

export interface ConfigErrorDetails {
  /** Dotted key (`mqtt.url`), or null when the problem is not one key (a file that is not JSON). */
  key: string | null;
  /** The offending value as given (masked for secrets). */
  value: unknown;
  source: ConfigSource;
  /** What is allowed, in words. */
  allowed: string;
  /** Extra sentence: the underlying reason or what to do. */
  hint?: string;
  /** The key is not in the schema: the message says so instead of showing the value, and `allowed` lists the keys. */
  unknownKey?: boolean;
  cause?: unknown;
}

function where(source: ConfigSource): string {
  if (source === 'cli') return 'from the command line';
  if (source === 'default') return 'from the default';
  if (source.startsWith('env ')) return `from environment variable ${source.slice(4)}`;
  return `from config file ${source.slice(5)}`;
}

/** Longest value an error shows. */
const SHOWN_CHARS = 120;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON has no Infinity or NaN (a config file's 1e309 parses to Infinity): JSON.stringify would say null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  // A long string is shortened inside its quotes, so they stay balanced.
  if (typeof value === 'string' && value.length > SHOWN_CHARS) return JSON.stringify(`${value.slice(0, SHOWN_CHARS - 3)}...`);
  const text = JSON.stringify(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 3)}...` : text;
}

/** A configuration value that cannot be used; the message names the key, the value, where it came from and what is allowed. */
export class ConfigError extends Error {
  readonly key: string | null;
  readonly value: unknown;
  readonly source: ConfigSource;
  readonly allowed: string;

  constructor(details: ConfigErrorDetails) {
    const subject = details.key === null ? `configuration ${where(details.source)}` : `config key ${details.key} ${where(details.source)}`;
    const got = details.key === null ? '' : details.unknownKey ? ' is not a known key' : ` is ${show(details.value)}`;
    const hint = details.hint ? ` (${details.hint})` : '';
    super(`${subject}${got}${hint}: ${details.unknownKey ? '' : 'must be '}${details.allowed}`, { cause: details.cause });
    this.name = 'ConfigError';
    this.key = details.key;
    this.value = details.value;
    this.source = details.source;
    this.allowed = details.allowed;
  }
}
