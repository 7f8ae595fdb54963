import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../log.js';

export interface EmbeddedBrokerOptions {
  /** TCP port on 127.0.0.1; 0 picks any free port (read it back from `port`). */
  port: number;
  /** Loopback by default: the embedded broker is for a single box, not the network. */
  host?: string;
  logger: Logger;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** An in-process aedes broker (for `mqtt.url = embedded`): no separate broker to install. */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
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
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
