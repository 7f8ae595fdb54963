/**
 * Files the configuration names, checked at load so that a person fixes them before anything starts
 * (exit 78 naming the key): the password file, the TLS files (readable, and PEM that parses), and a
 * `file:` audio source.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './errors.js';
import type { ConfigSource, GearhearConfig } from './types.js';

type Sources = Record<string, ConfigSource>;
type FileKey = 'passwordFile' | 'ca' | 'cert' | 'key';

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'not readable by this user' : (err as Error).message;
}

export function checkReadable(cfg: GearhearConfig, key: FileKey, sources: Sources): void {
  const file = cfg.mqtt[key];
  if (file === '') return;
  try {
    accessSync(file, constants.R_OK);
    if (statSync(file).isDirectory()) throw new Error('it is a directory');
  } catch (err) {
    throw new ConfigError({ key: `mqtt.${key}`, value: file, source: sources[`mqtt.${key}`]!, allowed: 'a readable file', hint: why(err), cause: err });
  }
}

const PEM_PARSERS: Record<'ca' | 'cert' | 'key', { what: string; parse: (pem: Buffer) => unknown }> = {
  ca: { what: 'a PEM certificate of the CA that signed the broker\'s certificate', parse: (pem) => new X509Certificate(pem) },
  cert: { what: 'a PEM client certificate', parse: (pem) => new X509Certificate(pem) },
  key: { what: 'a PEM private key (unencrypted) of the client certificate', parse: (pem) => createPrivateKey(pem) },
};

/** mqtt.ca, mqtt.cert and mqtt.key hold PEM that parses, and the key belongs to the certificate. */
export function checkTlsFiles(cfg: GearhearConfig, sources: Sources): void {
  for (const key of ['ca', 'cert', 'key'] as const) {
    const file = cfg.mqtt[key];
    if (file === '') continue;
    try {
      PEM_PARSERS[key].parse(readFileSync(file));
    } catch (err) {
      throw new ConfigError({ key: `mqtt.${key}`, value: file, source: sources[`mqtt.${key}`]!, allowed: PEM_PARSERS[key].what, hint: (err as Error).message, cause: err });
    }
  }
  const { cert, key } = cfg.mqtt;
  if (cert === '' || key === '') return;
  try {
    createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) });
  } catch (err) {
    throw new ConfigError({ key: 'mqtt.key', value: key, source: sources['mqtt.key']!, allowed: `the private key of the certificate in mqtt.cert (${cert})`, hint: (err as Error).message, cause: err });
  }
}

/** A `file:` audio source names a readable file (relative paths: to the working directory, as the source opens them). */
export function checkAudioFile(cfg: GearhearConfig, sources: Sources, cwd: string): void {
  const spec = cfg.audio.source.trim();
  if (!spec.startsWith('file:')) return;
  const file = path.resolve(cwd, spec.slice('file:'.length));
  try {
    accessSync(file, constants.R_OK);
    if (statSync(file).isDirectory()) throw new Error('it is a directory');
  } catch (err) {
    throw new ConfigError({ key: 'audio.source', value: cfg.audio.source, source: sources['audio.source']!, allowed: 'file:<path> naming a readable WAV file', hint: why(err), cause: err });
  }
}
