/**
 * `gearhear run` with its state directory on a failing disk: read-only at start (exit 78 before
 * listening), full (a real 64 KiB tmpfs) while the broker is away. Real mosquitto, real speech.
 */
import path from 'node:path';
import t from 'tap';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { joinWithSilence, sayWithSlt, spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { daemonEnv, MqttRecorder, retained } from '../fixtures/daemon-helpers.js';
import { bindMount, fillDisk, smallTmpfs } from '../publish/helpers.js';

const EX_CONFIG = 78;

const dir = await tempDir(t, 'gearhear-storage-');
const broker = await startMosquitto();
t.teardown(() => broker.close());
const vocab = await writeCatchAllVocab(dir);
const speech = await sayWithSlt('check the pump on the second floor, the motor there runs loud', path.join(dir, 'speech.wav'));

t.test('a read-only state directory: a clear error and exit 78, before listening', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const stateDir = await tempDir(t);
  const mount = await bindMount(t, stateDir);
  await mount.readOnly();
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: `file:${speech}`, vocab }));
  const r = await daemon.exit();
  t.equal(r.code, EX_CONFIG, 'exit 78: systemd does not restart a setup fault', { stderr: r.stderr.slice(-2000) });
  t.match(r.stderr, `gearhear: state directory ${stateDir} is not writable (EROFS`, 'names the directory and the cause');
  t.match(r.stderr, /set state\.dir to a writable directory/, 'says what to do');
  t.notOk(daemon.hasLog('listening'), 'it never listened');
  t.notOk(daemon.hasLog('detection'), 'so nothing was heard and lost');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

t.test('state directory full, broker away: every detection is held in memory, reported, and delivered once the broker is back', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const proxy = await TcpProxy.create(broker.port);
  await proxy.shut();
  t.teardown(() => proxy.shut());
  const stateDir = await smallTmpfs(t);
  await fillDisk(stateDir);
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: `mqtt://127.0.0.1:${proxy.port}`, stateDir, source: `file:${speech}`, vocab, drainTimeoutMs: 60_000 }));
  await waitFor('a detection held in memory', () => daemon.hasLog('outbox: a detection is held in memory only') || !daemon.running, 60_000);
  t.ok(daemon.running, 'the daemon waits for the broker with the detections in memory');
  await new Promise((r) => setTimeout(r, 3000)); // the rest of the (fast-paced) file is heard meanwhile
  t.equal(sub.on('detection').length, 0, 'nothing reached the broker yet');
  await proxy.open();
  const r = await daemon.exit();
  t.equal(r.code, 0, 'once the broker is reachable it drains and exits 0', { stderr: r.stderr.slice(-2000) });
  const heard = daemon.logs().filter((l) => l.msg === 'detection');
  const held = daemon.logs().filter((l) => l.msg === 'outbox: a detection is held in memory only');
  t.ok(heard.length > 0, `${heard.length} detections heard`);
  t.equal(held.length, heard.length, 'the full disk refused every one');
  const received = sub.detections();
  t.equal(received.length, heard.length, 'and every one arrived');
  const errors = sub.on('error').map((m) => JSON.parse(m.payload) as { where: string; seq?: number; term?: string });
  const reported = errors.filter((e) => e.where === 'outbox' && e.seq !== undefined);
  t.same(reported.map((e) => `${e.seq} ${e.term}`).sort(), received.map((d) => `${d.seq} ${d.term}`).sort(), 'each was reported on error with its seq and term');
});

t.test('SIGTERM with the state directory full: every step of the shutdown runs, `offline` is published, exit 0', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const stateDir = await smallTmpfs(t);
  const long = await joinWithSilence([speech, speech, speech, speech], path.join(dir, 'long.wav'), 1);
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: `file:${long}`, pace: 'realtime', vocab }));
  await waitFor('a first detection delivered', () => sub.detections().length > 0 || !daemon.running, 40_000);
  await fillDisk(stateDir);
  const before = sub.detections().length;
  await waitFor('a detection delivered after the disk filled up', () => sub.detections().length > before || !daemon.running, 40_000);
  t.ok(daemon.running, 'still listening');
  daemon.child.kill('SIGTERM');
  const r = await daemon.exit(30_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.ok(daemon.logs().some((l) => /^outbox: could not write the acknowledged watermark/.test(l.msg) && /ENOSPC/.test(String(l.error))), 'the failed watermark write is logged');
  t.equal(await retained(broker.url, 'status'), 'offline', '`offline` is retained');
});
