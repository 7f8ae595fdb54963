/**
 * Evidence clips and feedback end to end: `gearhear run` with evidence.enabled, real speech on
 * stdin and a real mosquitto. Every detection carries a clip id; every clip is a WAV that sox opens
 * and holds exactly the stream's audio around the term; request/clip returns it; a verdict over MQTT
 * is acknowledged, stored with the clip, counted in health, and survives a restart; `gearhear clips`
 * lists and exports it.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { buildDiscovery } from '../../src/publish/discovery.js';
import { DeviceTopics } from '../../src/publish/topics.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { runCli, sayWithSlt, spawnCli, tempDir, waitFor, writeCatchAllVocab, type CliProcess } from '../fixtures/gearhear-cli.js';
import { BASE_TOPIC, daemonEnv, DEVICE_ID, loadTopicSchemas, MqttRecorder, rawS16le, topic } from '../fixtures/daemon-helpers.js';

const exec = promisify(execFile);
const dir = await tempDir(t, 'gearhear-evidence-');
const broker = await startMosquitto();
t.teardown(() => broker.close());
const schemaProblem = await loadTopicSchemas();
const vocab = await writeCatchAllVocab(dir);
const speechRaw = await readFile(await rawS16le(await sayWithSlt('the bearing on the gearbox is loud. check the oil leak.', path.join(dir, 'speech.wav')), path.join(dir, 'speech.raw')));
// Two seconds of silence after the speech: the last clip gets its whole post-roll.
const streamBytes = Buffer.concat([speechRaw, Buffer.alloc(2 * 16000 * 2)]);
const stateDir = await tempDir(t);
const evidenceEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...daemonEnv({ url: broker.url, stateDir, source: 'stdin', vocab }), GEARHEAR_EVIDENCE_ENABLED: 'true', ...extra,
});

type Response = { status: string; data: Record<string, unknown>; error?: string; transaction?: string };
function asker(t: Test, sub: MqttRecorder): (action: string, body?: Record<string, unknown>) => Promise<Response> {
  let n = 0;
  return async (action, body = {}) => {
    const transaction = `tx-${action}-${++n}`;
    await sub.client.publishAsync(topic(`request/${action}`), JSON.stringify({ ...body, transaction }), { qos: 1 });
    const find = () => sub.on(`response/${action}`).find((m) => (JSON.parse(m.payload) as { transaction?: string }).transaction === transaction);
    await waitFor(`response/${action} ${transaction}`, () => find() !== undefined, 30_000);
    t.equal(schemaProblem(find()!), null, `response/${action} matches its schema`);
    return JSON.parse(find()!.payload) as Response;
  };
}

async function startDaemon(t: Test, sub: MqttRecorder, env: Record<string, string>): Promise<CliProcess> {
  const daemon = spawnCli(t, ['run'], env, 'pipe');
  const before = sub.on('status').filter((m) => m.payload === 'online').length;
  await waitFor('online', () => sub.on('status').filter((m) => m.payload === 'online').length > before || !daemon.running, 60_000);
  await waitFor('listening', () => daemon.hasLog('listening') || !daemon.running, 30_000);
  t.ok(daemon.running, 'the daemon runs', { stderr: daemon.stderr.slice(-2000) });
  return daemon;
}

let detections: Array<Record<string, unknown> & { id: string; term: string }> = [];

t.test('every detection has a playable clip holding the stream\'s own audio around its term', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = await startDaemon(t, sub, evidenceEnv());
  daemon.child.stdin!.end(streamBytes);
  t.equal((await daemon.exit(60_000)).code, 0, 'exit 0 at end of input');
  detections = sub.detections();
  t.ok(detections.length >= 3, `${detections.length} detections`);
  t.same(sub.on('detection').map(schemaProblem).filter(Boolean), [], 'detections with clipId match the schema');
  const names = await readdir(path.join(stateDir, 'evidence'));
  t.equal(names.filter((n) => n.endsWith('.wav')).length, detections.length, 'one WAV per detection');
  for (const d of detections) {
    const clipId = d.clipId as string;
    t.match(clipId, /^\d{8}T\d{9}Z-[0-9a-f]{8}$/, `${d.term}: a clip id`);
    const meta = JSON.parse(await readFile(path.join(stateDir, 'evidence', `${clipId}.json`), 'utf8')) as Record<string, number & string>;
    const wavPath = path.join(stateDir, 'evidence', `${clipId}.wav`);
    t.equal(meta.detectionId, d.id, `${clipId}: its metadata names the detection`);
    const { stdout } = await exec('soxi', [wavPath]);
    t.match(stdout, /Channels\s+:\s+1[\s\S]*Sample Rate\s+:\s+16000[\s\S]*Precision\s+:\s+16-bit/, `${clipId}: sox opens it as 16 kHz mono 16-bit`);
    const start = d.start as number;
    const end = d.end as number;
    t.ok(meta.clipStart <= Math.max(0, start - 1) + 1e-3 && meta.clipEnd >= end + 0.5 - 1e-3,
      `${d.term} [${start}, ${end}] lies inside the clip [${meta.clipStart}, ${meta.clipEnd}] with 1 s before and 0.5 s after`);
    const wav = await readFile(wavPath);
    const from = Math.round(meta.clipStart * 16000) * 2;
    t.ok(wav.length > 44 && wav.subarray(44).equals(streamBytes.subarray(from, from + wav.length - 44)), `${clipId}: the WAV holds exactly the audio of the stream there`);
  }
});

let falseClip = '';

t.test('request/clip fetches a clip; verdicts over MQTT are acknowledged, stored and counted', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = await startDaemon(t, sub, evidenceEnv()); // stdin open, no audio: only requests
  const ask = asker(t, sub);
  const first = detections[0]!;
  const fetched = await ask('clip', { id: first.clipId });
  t.equal(fetched.status, 'ok');
  t.ok(Buffer.from(fetched.data.wav as string, 'base64').equals(await readFile(path.join(stateDir, 'evidence', `${first.clipId as string}.wav`))), 'request/clip returns the WAV');
  t.equal(fetched.data.detectionId, first.id);
  t.equal((await ask('clip', { id: first.id })).data.clipId, first.clipId, 'a clip can be asked for by detection id');

  const verdict = await ask('feedback', { detection: first.id, verdict: 'false' });
  t.equal(verdict.status, 'ok', 'the verdict is acknowledged');
  t.same(verdict.data.counts, { false: 1, true: 0, wrongTerm: 0 }, 'and counted for its term');
  falseClip = first.clipId as string;
  const second = detections[1]!;
  const said = ['bearing', 'gearbox', 'oil leak'].find((x) => x !== second.term)!;
  const wrong = await ask('feedback', { detection: second.id, verdict: `wrong-term ${said.toUpperCase()}` });
  t.same((wrong.data.verdict as { saidTerm: string }).saidTerm, said, 'wrong-term names the term said (normalised)');
  t.match((await ask('feedback', { detection: second.id, verdict: 'wrong-term gear box' })).error,
    /"gear box" is not a term of the vocabulary \(3 terms; the closest: gearbox/, 'a wrong-term naming no vocabulary term is refused, naming it');
  // What the Home Assistant "right" button sends.
  const button = buildDiscovery({ prefix: 'homeassistant', deviceId: DEVICE_ID, deviceName: 'x', topics: new DeviceTopics(BASE_TOPIC, DEVICE_ID), categories: [], healthSensors: [], feedbackButtons: true })
    .find((m) => m.topic.endsWith('/feedback_true/config'))!.config as { command_topic: string; payload_press: string };
  const answered = () => sub.on('response/feedback').find((m) => (JSON.parse(m.payload) as Response).transaction === 'ha-feedback_true');
  await sub.client.publishAsync(button.command_topic, button.payload_press, { qos: 1 });
  await waitFor('the button\'s answer', () => answered() !== undefined, 30_000);
  t.equal((JSON.parse(answered()!.payload) as Response).data.detection, detections.at(-1)!.id, 'the button marks the last detection');

  t.match((await ask('feedback', { detection: first.id, verdict: 'maybe' })).error, /"verdict" must be "false", "true" or "wrong-term <term>"/);
  t.match((await ask('feedback', { detection: '11111111-2222-4333-8444-555555555555', verdict: 'false' })).error, /no evidence clip for/);
  t.match((await ask('feedback', { verdict: 'false' })).error, /name the detection/);

  const health = await ask('health');
  const feedback = health.data.feedback as { received: number; terms: Record<string, { false: number; true: number; wrongTerm: number }> };
  t.equal(feedback.received, 3, 'health: 3 verdicts received');
  t.equal(feedback.terms[first.term]!.false, 1, `health: ${first.term} has one false verdict`);
  const evidence = health.data.evidence as { clips: number; droppedByCount: number };
  t.equal(evidence.clips, detections.length, 'health: the clips of the first run');
  t.equal(evidence.droppedByCount, 0);
  daemon.child.stdin!.end();
  t.equal((await daemon.exit(60_000)).code, 0, 'exit 0 at end of input');
  const meta = JSON.parse(await readFile(path.join(stateDir, 'evidence', `${falseClip}.json`), 'utf8')) as { verdict: { verdict: string } };
  t.equal(meta.verdict.verdict, 'false', 'the verdict is stored with the clip');
});

t.test('after a restart: verdict counts are still in health; request/clip keeps to its size limit', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = await startDaemon(t, sub, evidenceEnv({ GEARHEAR_EVIDENCE_MAX_RESPONSE_BYTES: '1024' }));
  const ask = asker(t, sub);
  const health = await ask('health');
  const feedback = health.data.feedback as { received: number; terms: Record<string, { false: number }> };
  t.equal(feedback.received, 0, 'none received since this start');
  t.equal(Object.values(feedback.terms).reduce((s, c) => s + c.false, 0), 1, 'the false verdict is still counted');
  t.ok((health.data.evidence as { clips: number }).clips >= 3, 'the clips are still there');
  const tooBig = await ask('clip', { id: falseClip });
  t.equal(tooBig.status, 'error');
  t.match(tooBig.error, /over evidence\.maxResponseBytes \(1024\); copy it with `gearhear clips export`/);
  daemon.child.stdin!.end();
  t.equal((await daemon.exit(60_000)).code, 0);
});

t.test('gearhear clips list and export', async (t) => {
  const env = { GEARHEAR_STATE_DIR: stateDir };
  const all = await runCli(t, ['clips', 'list', '--json'], env);
  t.equal(all.code, 0, all.stderr);
  const listed = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { clipId: string; verdict?: { verdict: string } });
  t.ok(listed.length >= 3, `${listed.length} clips listed`);
  const falses = await runCli(t, ['clips', 'list', '--verdict', 'false'], env);
  t.equal(falses.code, 0);
  t.equal(falses.stdout.trim().split('\n').length, 1, 'one false verdict');
  t.match(falses.stdout, new RegExp(`^${falseClip} .* verdict false$`, 'm'));
  t.equal((await runCli(t, ['clips', 'list', '--since', '1d', '--json'], env)).stdout.trim().split('\n').length, listed.length, '--since 1d: all');
  t.equal((await runCli(t, ['clips', 'list', '--since', '2999-01-01', '--json'], env)).stdout, '', '--since the future: none');
  const out = path.join(await tempDir(t), 'negatives');
  const exported = await runCli(t, ['clips', 'export', '--verdict', 'false', '--out', out], env);
  t.equal(exported.code, 0, exported.stderr);
  t.match(exported.stdout, `exported 1 clip(s) to ${out}`);
  t.same((await readdir(out)).sort(), [`${falseClip}.json`, `${falseClip}.wav`]);
  t.ok((await stat(path.join(out, `${falseClip}.wav`))).size > 16000, 'the WAV was copied');
  const bad = await runCli(t, ['clips', 'list', '--since', 'yesterday'], env);
  t.equal(bad.code, 64, 'a bad --since is a usage error');
  t.match(bad.stderr, /--since "yesterday" is neither a date\/time/);
  t.equal((await runCli(t, ['clips', 'export'], env)).code, 64, 'export without --out is a usage error');
  t.equal((await runCli(t, ['clips', 'list', '--verdict', 'meh'], env)).code, 64);
  await writeFile(path.join(stateDir, 'evidence', `${falseClip}.json`), '{ torn');
  const damaged = await runCli(t, ['clips', 'list'], env);
  t.equal(damaged.code, 0, 'a damaged clip record does not stop the listing');
  t.match(damaged.stderr, `skipped ${path.join(stateDir, 'evidence', `${falseClip}.json`)}`);
});
