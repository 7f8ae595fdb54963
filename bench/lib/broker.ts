/** Debian's mosquitto on a free loopback port, for the benchmarks (restartable, like a real broker going away). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep } from './common.js';

export interface Broker {
  readonly url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within 10 s`);
}

export async function startBroker(): Promise<Broker> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-bench-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  // Persistence keeps sessions and queued QoS 1 messages across restart(), as a production broker would.
  const lines = ['per_listener_settings false', 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'log_dest none',
    ...(os.userInfo().uid === 0 ? ['user root'] : []), `listener ${port} 127.0.0.1`, 'allow_anonymous true'];
  await writeFile(conf, lines.join('\n') + '\n');
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const c = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    c.on('error', () => undefined);
    child = c;
    await waitForPort(port, c);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await launch().catch((err: unknown) => {
    throw new Error(`could not start mosquitto (is the Debian package installed?): ${(err as Error).message}`, { cause: err });
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop,
    restart: launch,
    close: async () => { await stop(); await rm(dir, { recursive: true, force: true }); },
  };
}
