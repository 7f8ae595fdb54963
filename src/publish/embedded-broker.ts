import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Aedes, type AuthenticateError } from 'aedes';
import { writeFileAtomic } from '../durable-file.js';
import { silentLogger, type Logger } from '../log.js';
import { octal, tightenOwnerOnly } from '../owner-only.js';

/**
 * `<state.dir>/embedded-broker.json`: the one account of the embedded broker, generated at first
 * start (mode 0600 whatever the umask: readable by the daemon's user and root only; an existing
 * file others could read is tightened). Local clients read it to connect.
 */
export const EMBEDDED_CREDENTIALS_FILE = 'embedded-broker.json';
const EMBEDDED_USERNAME = 'gearhear';

export interface BrokerCredentials {
  username: string;
  password: string;
}

/** Reads the embedded broker's credentials from the state directory, generating them the first time. */
export async function embeddedCredentials(stateDir: string, logger: Logger = silentLogger): Promise<BrokerCredentials> {
  const file = path.join(stateDir, EMBEDDED_CREDENTIALS_FILE);
  const was = await tightenOwnerOnly(file).catch((err: Error) => { throw new Error(`cannot make the embedded broker's credentials ${file} owner-only: ${err.message}`, { cause: err }); });
  if (was !== null) logger.warn("embedded broker: its credentials were readable by other users; made owner-only", { file, modeWas: octal(was) });
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the embedded broker's credentials ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (text !== null) {
    try {
      const c = JSON.parse(text) as Partial<BrokerCredentials>;
      if (typeof c.username === 'string' && c.username && typeof c.password === 'string' && c.password.length >= 16) return { username: c.username, password: c.password };
    } catch {
      // damaged: replaced below, as at first start
    }
  }
  const created = { username: EMBEDDED_USERNAME, password: randomBytes(24).toString('base64url') };
  await writeFileAtomic(file, JSON.stringify(created) + '\n');
  return created;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface EmbeddedBrokerOptions {
  /** TCP port on 127.0.0.1; 0 picks any free port (read it back from `port`). */
  port: number;
  /** Loopback by default: the embedded broker is for a single box, not the network. */
  host?: string;
  /** The one account allowed to connect; without it any local process could publish (or replace retained state). */
  credentials: BrokerCredentials;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  readonly credentials: BrokerCredentials;
  stop(): Promise<void>;
}

/** An in-process aedes broker (for `mqtt.url = embedded`): no separate broker to install. */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const { credentials } = opts;
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (username !== undefined && sameSecret(username, credentials.username) && password !== undefined && sameSecret(password.toString(), credentials.password)) {
        done(null, true);
        return;
      }
      opts.logger.warn('embedded broker: refused a client without the right credentials', { clientId: client.id });
      const error = Object.assign(new Error('bad user name or password'), { returnCode: 4 }) as AuthenticateError;
      done(error, false);
    },
  });
  aedes.on('clientError', (client, err) => opts.logger.debug('embedded broker: client error', { clientId: client.id, error: err.message }));
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      aedes.close();
      reject(new Error(`embedded MQTT broker cannot listen on ${host}:${opts.port}: ${err.message}${err.code === 'EADDRINUSE' ? ' (port in use: pick another mqtt port or 0 for any free one)' : ''}`, { cause: err }));
    });
    server.listen(opts.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.logger.info('embedded MQTT broker listening', { host, port });
  return {
    port,
    url: `mqtt://${host}:${port}`,
    credentials,
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
