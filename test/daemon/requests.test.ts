/**
 * `gearhear run` answers requests over MQTT (request/<action> -> response/<action>) against a real
 * mosquitto, with real speech on stdin: info, health, reload (unchanged, then a broken file) and an
 * in-process restart that comes back online and keeps answering.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { sayWithSlt, spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { daemonEnv, loadTopicSchemas, MqttRecorder, rawS16le, topic } from '../fixtures/daemon-helpers.js';

const dir = await tempDir(t, 'gearhear-requests-');
const broker = await startMosquitto();
t.teardown(() => broker.close());
const schemaProblem = await loadTopicSchemas();
const vocab = await writeCatchAllVocab(dir);
const raw = await rawS16le(await sayWithSlt('check the bearing on the gearbox', path.join(dir, 'speech.wav')), path.join(dir, 'speech.raw'));

t.test('reload, health, info and restart over MQTT', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const stateDir = await tempDir(t);
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: 'stdin', vocab }), 'pipe');
  daemon.child.stdin!.write(await readFile(raw)); // stdin stays open: the daemon keeps listening
  await waitFor('online', () => sub.on('status').some((m) => m.payload === 'online') || !daemon.running, 60_000);
  await waitFor('listening', () => daemon.hasLog('listening'), 30_000);
  let n = 0;
  const ask = async (action: string, body: Record<string, unknown> = {}): Promise<{ status: string; data: Record<string, unknown>; error?: string; transaction?: string }> => {
    const transaction = `tx-${++n}`;
    await sub.client.publishAsync(topic(`request/${action}`), JSON.stringify({ ...body, transaction }), { qos: 1 });
    const find = () => sub.on(`response/${action}`).find((m) => (JSON.parse(m.payload) as { transaction?: string }).transaction === transaction);
    await waitFor(`response/${action} ${transaction}`, () => find() !== undefined, 30_000);
    const m = find()!;
    t.equal(schemaProblem(m), null, `response/${action} matches its schema`);
    return JSON.parse(m.payload) as { status: string; data: Record<string, unknown>; error?: string };
  };

  const info = await ask('info');
  t.equal(info.status, 'ok');
  t.equal((info.data.model as { id: string }).id, 'gearhear-kws', 'info names the model');
  t.equal((info.data.vocabulary as { terms: unknown[] }).terms.length, 3, 'and the vocabulary');

  const health = await ask('health');
  t.equal(health.status, 'ok');
  t.type((health.data.outbox as { depth: number }).depth, 'number', 'health carries the outbox figures');
  t.type(health.data.uptimeSec, 'number');
  t.ok(sub.on('health').length >= 1, 'and was published on health too');

  const feedback = await ask('feedback', { detection: 'last', verdict: 'false' });
  t.equal(feedback.status, 'error', 'evidence is off by default: no feedback action');
  t.match(feedback.error, /unknown request "feedback"; this device answers: health, info, reload, restart/);

  const unchanged = await ask('reload');
  t.same(unchanged.data, { outcome: 'unchanged', version: (info.data.vocabulary as { version: string }).version, terms: 3 }, 'reload of the same file: unchanged');

  const good = await readFile(vocab, 'utf8');
  await writeFile(vocab, `${good}bearing noise | threshold=banana\n`);
  const broken = await ask('reload');
  t.equal(broken.status, 'error', 'a broken vocabulary: error response');
  t.match(broken.error, /banana/, `names the problem (${broken.error})`);
  await writeFile(vocab, good);

  const onlineBefore = sub.on('status').filter((m) => m.payload === 'online').length;
  const restart = await ask('restart');
  t.same(restart.data, { restarting: true }, 'restart acknowledged');
  await waitFor('online again', () => sub.on('status').filter((m) => m.payload === 'online').length > onlineBefore, 60_000);
  const statuses = sub.on('status').map((m) => m.payload).slice(-2);
  t.same(statuses, ['offline', 'online'], 'offline, then online again');
  t.ok(daemon.running, 'the same process keeps running');
  t.ok(daemon.hasLog('restarting'), 'logged the restart');
  await waitFor('listening again', () => daemon.logs().filter((l) => l.msg === 'listening').length >= 2, 30_000);
  t.equal((await ask('info')).status, 'ok', 'answers after the restart');

  daemon.child.stdin!.end();
  const r = await daemon.exit(60_000);
  t.equal(r.code, 0, 'exit 0 when stdin ends', { stderr: r.stderr.slice(-2000) });
  const detections = sub.detections();
  t.ok(detections.length > 0, `${detections.length} detections`);
  t.ok(detections.every((d) => !('clipId' in d)), 'evidence off: detections carry no clip id');
  t.equal(existsSync(path.join(stateDir, 'evidence')), false, 'evidence off: no evidence folder, no audio on disk');
});
