/**
 * request/adapt over MQTT, against a real mosquitto: a daemon with model.detector = heads, listening
 * to real speech on stdin, is asked to adapt a term a site enrolled (real takes of "stop", Speech
 * Commands speakers that may be trained on, hash 0-b); `gearhear adapt` runs in a separate process,
 * the answer says what changed, `info` then names the site heads, and the daemon keeps listening.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { repoRoot, runCli, spawnCli, tempDir, waitFor } from '../fixtures/gearhear-cli.js';
import { daemonEnv, loadTopicSchemas, MqttRecorder, rawS16le, topic } from '../fixtures/daemon-helpers.js';

const run = promisify(execFile);
const SC = path.resolve(repoRoot, '../shared/speech-commands-test');
const dir = await tempDir(t, 'gearhear-adapt-mqtt-');
const broker = await startMosquitto();
t.teardown(() => broker.close());
const schemaProblem = await loadTopicSchemas();
const vocab = path.join(dir, 'site.txt');
await writeFile(vocab, 'stop | category=command severity=low\n');
const state = path.join(dir, 'state');
const set = ['--set', `vocab.file=${vocab}`, '--set', `state.dir=${state}`, '--set', 'model.detector=heads'];
t.test('request/adapt refits the site heads in a separate process and the daemon swaps them in', async (t) => {
  t.equal((await runCli(t, ['vocab', 'compile', vocab, '--no-heads'])).code, 0, 'the lexicon for the daemon');

  const rows = (await readFile(path.join(SC, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
  const by = new Map<string, string[]>();
  for (const [p, w, s] of rows) if (w === 'stop' && !/^[c-f]/.test(s!)) by.set(s!, [...(by.get(s!) ?? []), p!]);
  const takes = path.join(dir, 'takes');
  await mkdir(takes);
  for (const [s, ps] of [...by.entries()].filter(([, ps]) => ps.length >= 3).slice(0, 2)) {
    for (const [i, p] of ps.slice(0, 3).entries()) await run('sox', [path.join(SC, p), '-b', '16', path.join(takes, `${s}_${i}.wav`)]);
  }
  t.equal((await runCli(t, ['enroll', 'stop', '--from', takes, '--who', 'site', ...set])).code, 0, 'takes enrolled');
  const speech = await rawS16le(path.join(takes, (await import('node:fs')).readdirSync(takes)[0]!), path.join(dir, 'speech.raw'));
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = spawnCli(t, ['run'], { ...daemonEnv({ url: broker.url, stateDir: state, source: 'stdin', vocab }), GEARHEAR_MODEL_DETECTOR: 'heads' }, 'pipe');
  daemon.child.stdin!.write(await readFile(speech));
  await waitFor('listening', () => daemon.hasLog('listening') || !daemon.running, 60_000);
  if (!t.ok(daemon.running && daemon.hasLog('listening'), 'the daemon listens', { stderr: daemon.stderr.slice(-3000) })) return;
  await waitFor('online', () => sub.on('status').some((m) => m.payload === 'online'), 30_000);
  const ask = async (action: string, body: Record<string, unknown> = {}): Promise<{ status: string; data: Record<string, unknown>; error?: string }> => {
    const transaction = `tx-${action}-${Date.now()}`;
    await sub.client.publishAsync(topic(`request/${action}`), JSON.stringify({ ...body, transaction }), { qos: 1 });
    const find = () => sub.on(`response/${action}`).find((m) => (JSON.parse(m.payload) as { transaction?: string }).transaction === transaction);
    await waitFor(`response/${action}`, () => find() !== undefined || !daemon.running, 240_000);
    if (!find()) throw new Error(`no response/${action}; the daemon said:\n${daemon.stderr.slice(-3000)}`);
    t.equal(schemaProblem(find()!), null, `response/${action} matches its schema`);
    return JSON.parse(find()!.payload) as { status: string; data: Record<string, unknown>; error?: string };
  };
  const bad = await ask('adapt', { terms: 'stop' });
  t.equal(bad.status, 'error');
  t.match(bad.error, /terms must be a list/);
  const answer = await ask('adapt', { terms: ['stop'] });
  t.equal(answer.status, 'ok', answer.error ?? 'adapted');
  const terms = answer.data.terms as Array<{ term: string; accepted: boolean; guard: { faPerHourAfter: number } }>;
  t.same(terms.map((x) => [x.term, x.accepted]), [['stop', true]], 'stop adapted');
  t.equal(answer.data.changed, true, 'the site heads changed');
  t.same((answer.data.siteHeads as { terms: string[] }).terms, ['stop']);
  t.ok(daemon.hasLog('site heads loaded (gearhear adapt)'), 'the daemon loaded them');
  const info = await ask('info');
  t.same(((info.data.heads as { site?: { terms: string[] } }).site)?.terms, ['stop'], 'info names the site heads and their terms');
  daemon.child.stdin!.write(await readFile(speech));
  const segments = (): number => daemon.logs().filter((l) => l.msg === 'listening').length;
  t.equal(segments(), 1, 'it never stopped listening');
  daemon.child.stdin!.end();
  const r = await daemon.exit(60_000);
  t.equal(r.code, 0, 'exit 0 when stdin ends', { stderr: r.stderr.slice(-2000) });
});
