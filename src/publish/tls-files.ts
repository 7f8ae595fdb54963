import { readFile } from 'node:fs/promises';
import type { TlsFileOptions } from './types.js';
import { PublishError } from './types.js';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  // `what` names the option and its configuration key, e.g. "CA certificate (mqtt.ca)".
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : (err as Error).message;
    throw new PublishError(`MQTT TLS ${what} file ${file} ${why}: fix the path`, 'tls', code, { cause: err });
  }
}

/** Reads the CA / client certificate / key files; server certificates are verified unless told otherwise. */
export async function loadTlsFiles(tls: TlsFileOptions | undefined): Promise<TlsMaterial> {
  const material: TlsMaterial = { rejectUnauthorized: tls?.rejectUnauthorized ?? true };
  if (!tls) return material;
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
    throw new PublishError('MQTT TLS client certificate and key go together: set both mqtt.cert and mqtt.key, or neither', 'tls');
  }
  if (tls.caFile) material.ca = await readPem(tls.caFile, 'CA certificate (mqtt.ca)');
  if (tls.certFile) material.cert = await readPem(tls.certFile, 'client certificate (mqtt.cert)');
  if (tls.keyFile) material.key = await readPem(tls.keyFile, 'client key (mqtt.key)');
  return material;
}

export { redactUrl } from '../redact.js';
