import t, { type Test } from 'tap';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SystemdNotifier } from '../../src/health/index.js';
import type { Logger } from '../../src/log.js';

/** A stand-in `systemd-notify` on PATH that appends "<NOTIFY_SOCKET>|<args>" to a log file. */
function fakeSystemd(t: Test, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearhear-notify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'calls.log');
  const script = path.join(dir, 'systemd-notify');
  writeFileSync(script, '#!/bin/sh\nprintf "%s|%s\\n" "$NOTIFY_SOCKET" "$*" >> "$NOTIFY_LOG"\n');
  chmodSync(script, 0o755);
  const env = { PATH: `${dir}:${process.env.PATH ?? ''}`, NOTIFY_SOCKET: '/run/systemd/notify', NOTIFY_LOG: log, ...extraEnv };
  const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  return { dir, env, calls };
}

t.test('a no-op when NOTIFY_SOCKET is not set', async (t) => {
  const { env, calls } = fakeSystemd(t);
  const notifier = new SystemdNotifier({ env: { ...env, NOTIFY_SOCKET: '' } });
  t.equal(notifier.enabled, false);
  t.equal(notifier.watchdogIntervalMs, null);
  t.equal(await notifier.ready('listening'), false);
  notifier.frameSeen();
  t.equal(await notifier.checkWatchdog(), false);
  t.same(calls(), [], 'systemd-notify never ran');
});

t.test('ready, status and stopping run systemd-notify with the notify socket', async (t) => {
  const { env, calls } = fakeSystemd(t);
  const notifier = new SystemdNotifier({ env });
  t.equal(notifier.enabled, true);
  t.equal(await notifier.ready('listening on mic'), true);
  t.equal(await notifier.status('model loaded'), true);
  t.equal(await notifier.stopping(), true);
  t.same(calls(), ['/run/systemd/notify|--ready STATUS=listening on mic', '/run/systemd/notify|STATUS=model loaded', '/run/systemd/notify|STOPPING=1']);
});

t.test('watchdog pings only when audio frames flowed since the last ping', async (t) => {
  const { env, calls } = fakeSystemd(t, { WATCHDOG_USEC: '2000000' });
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
  const notifier = new SystemdNotifier({ env, logger });
  t.equal(notifier.watchdogIntervalMs, 1000, 'half of WATCHDOG_USEC');
  t.equal(await notifier.checkWatchdog(), false, 'no frames yet: no ping');
  t.equal(warnings.length, 1, 'the stall is logged');
  notifier.frameSeen();
  notifier.frameSeen();
  t.equal(await notifier.checkWatchdog(), true);
  t.equal(await notifier.checkWatchdog(), false, 'frames stopped: no ping');
  t.equal(await notifier.checkWatchdog(), false);
  t.equal(warnings.length, 2, 'one warning per stall');
  notifier.frameSeen();
  t.equal(await notifier.checkWatchdog(), true);
  t.same(calls(), ['/run/systemd/notify|WATCHDOG=1', '/run/systemd/notify|WATCHDOG=1']);
});

t.test('the watchdog timer pings while frames flow', async (t) => {
  const { env, calls } = fakeSystemd(t, { WATCHDOG_USEC: '100000' });
  const notifier = new SystemdNotifier({ env });
  notifier.start();
  const feeder = setInterval(() => notifier.frameSeen(), 10);
  t.teardown(() => clearInterval(feeder));
  for (let i = 0; i < 200 && calls().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  clearInterval(feeder);
  await notifier.stop();
  t.ok(calls().length > 0, 'pinged');
  t.ok(calls().every((c) => c === '/run/systemd/notify|WATCHDOG=1'));
});

t.test('no watchdog when WATCHDOG_PID is another process; a failing binary resolves false', async (t) => {
  const { env } = fakeSystemd(t, { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' });
  t.equal(new SystemdNotifier({ env, pid: 4242 }).watchdogIntervalMs, null);
  t.equal(new SystemdNotifier({ env, pid: 1 }).watchdogIntervalMs, 1000);
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
  const failing = new SystemdNotifier({ env, binary: '/bin/false', logger });
  t.equal(await failing.ready(), false);
  t.match(warnings, ['systemd-notify failed']);
});
