/**
 * `gearhear run` end to end against a real mosquitto: what a subscriber receives, how the daemon
 * ends on end of input and on SIGTERM, and the stdin source. Speech is synthesised at test time.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { joinWithSilence, runCli, sayWithSlt, shippedVocab, spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { daemonEnv, DEVICE_ID, loadTopicSchemas, MqttRecorder, rawS16le, retained, type Message } from '../fixtures/daemon-helpers.js';

const dir = await tempDir(t, 'gearhear-daemon-');
const broker = await startMosquitto();
t.teardown(() => broker.close());
const schemaProblem = await loadTopicSchemas();
const catchAll = await writeCatchAllVocab(dir);
const speech = await sayWithSlt('check the pump on the second floor, the motor there runs loud', path.join(dir, 'speech.wav'));

async function recorder(t: Test): Promise<MqttRecorder> {
  const r = await MqttRecorder.connect(broker.url);
  t.teardown(() => r.close());
  return r;
}

const invalid = (messages: Message[]): string[] => messages.map(schemaProblem).filter((p): p is string => p !== null);

t.test('a file run publishes online, info and schema-valid detections, then offline, and exits 0', async (t) => {
  const sub = await recorder(t);
  const stateDir = await tempDir(t);
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: `file:${speech}`, vocab: catchAll }));
  const r = await daemon.exit();
  t.equal(r.code, 0, 'exit 0 after draining', { stderr: r.stderr.slice(-2000) });
  await waitFor('offline', () => sub.on('status').some((m) => m.payload === 'offline'), 5000);
  const status = sub.on('status');
  t.same(status.map((m) => m.payload), ['online', 'offline'], 'status: online, then offline');
  t.ok(status.every((m) => m.retain), 'status messages are retained');
  const info = sub.on('info');
  t.equal(info.length, 1, 'one info message');
  t.ok(info[0]?.retain, 'info is retained');
  const infoBody = JSON.parse(info[0]?.payload ?? '{}') as { model?: { id: string }; vocabulary?: { terms: unknown[] } };
  t.equal(infoBody.model?.id, 'gearhear-kws', 'info names the model');
  t.equal(infoBody.vocabulary?.terms.length, 3, 'info lists the vocabulary in use');
  const detections = sub.detections();
  t.ok(detections.length > 0, `detections arrived (${detections.length})`);
  t.same(invalid(sub.messages), [], `all ${sub.messages.length} messages validate against their schemas`);
  t.ok(detections.every((d) => d.deviceId === DEVICE_ID), 'detections carry the device id');
  const seqs = detections.map((d) => d.seq);
  t.same(seqs, [...seqs].sort((a, b) => a - b), 'seq increases in arrival order');
  t.equal(new Set(seqs).size, seqs.length, 'one seq per detection');
  const offlineAt = sub.messages.findIndex((m) => m.topic.endsWith('/status') && m.payload === 'offline');
  t.ok(sub.messages.slice(offlineAt).every((m) => !m.topic.endsWith('/detection')), 'every detection was delivered before offline');
  t.equal(await retained(broker.url, 'status'), 'offline', 'a later subscriber sees offline');
});

t.test('recognition: the terms said in SLT speech reach the subscriber', async (t) => {
  const sub = await recorder(t);
  const wav = await sayWithSlt('the gearbox is making a grinding noise. there is an oil leak under the motor.', path.join(dir, 'faults.wav'));
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: `file:${wav}`, vocab: shippedVocab }));
  t.equal((await daemon.exit()).code, 0, 'exit 0');
  const terms = sub.detections().map((d) => d.term);
  // Said: gearbox, grinding (noise), oil leak, motor. Model 0.2.0 finds 3 of them at the vocabulary's
  // thresholds (it misses "gearbox"); the factory calibration the daemon loads beside the shipped
  // vocabulary sets "motor" to 1 (ordinary speech scores it that high), so 2 (MODEL_CARD.md, vocab/README.md).
  const said = ['gearbox', 'grinding', 'oil leak', 'motor'];
  const heard = said.filter((w) => terms.some((term) => term === w || term.startsWith(`${w} `)));
  t.ok(heard.length >= 2, `at least 2 of ${said.join(', ')} published (got: ${terms.join(', ') || 'nothing'})`);
  const info = JSON.parse(sub.on('info').at(-1)!.payload) as { calibration?: { used: boolean; file: string; uncalibrated: string[] } };
  t.match(info.calibration, { used: true, file: /vocab\/mechanical-en\.calibration\.json$/, uncalibrated: [] }, 'the factory calibration is in use');
  t.ok(terms.includes('oil leak'), '"oil leak" published');
  t.ok(terms.every((term) => said.some((w) => term === w || term.startsWith(`${w} `))), `only terms that were said (${terms.join(', ')})`);
  t.same(invalid(sub.on('detection')), [], 'detections validate against the schema');
});

t.test('model.phones = embedding: the phone head on the speech embedding detects for the daemon, and shares the heads\' embedding', async (t) => {
  const sub = await recorder(t);
  const wav = await sayWithSlt('there is an oil leak under the motor.', path.join(dir, 'embphones.wav'));
  const env = { ...daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: `file:${wav}`, vocab: shippedVocab }), GEARHEAR_MODEL_PHONES: 'embedding' };
  const r = await spawnCli(t, ['run'], env).exit();
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  t.match(r.stdout + r.stderr, /model loaded.*gearhear-embphones.*"phones":"embedding".*"sharedEmbedding":"false"/, 'the embedding phone model, with its own embedding');
  t.ok(sub.detections().some((d) => d.term === 'oil leak'), `"oil leak" published (got: ${sub.detections().map((d) => d.term).join(', ') || 'nothing'})`);
  t.same(invalid(sub.on('detection')), [], 'detections validate against the schema');
  const withHeads = await spawnCli(t, ['run'], { ...env, GEARHEAR_MODEL_DETECTOR: 'heads', GEARHEAR_STATE_DIR: await tempDir(t) }).exit();
  t.equal(withHeads.code, 0, 'with model.detector = heads: exit 0', { stderr: withHeads.stderr.slice(-2000) });
  t.match(withHeads.stdout + withHeads.stderr, /model loaded.*"sharedEmbedding":"true"/, 'one embedding loaded for the heads and the phone model');
});

t.test('stdin source: raw S16_LE piped into gearhear run', async (t) => {
  const sub = await recorder(t);
  const raw = await rawS16le(speech, path.join(dir, 'speech.raw'));
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: 'stdin', vocab: catchAll }), 'pipe');
  createReadStream(raw).pipe(daemon.child.stdin!);
  const r = await daemon.exit();
  t.equal(r.code, 0, 'exit 0 at end of input', { stderr: r.stderr.slice(-2000) });
  t.ok(sub.detections().length > 0, 'detections from the piped audio arrived');
  t.same(invalid(sub.on('detection')), [], 'and validate');
  t.ok(daemon.logs().some((l) => l.msg === 'listening' && l.source === 'stdin'), 'listened on stdin');
});

t.test('SIGTERM during a real-time run: doctor --quick sees it alive, then it exits 0 with offline published', async (t) => {
  const sub = await recorder(t);
  const stateDir = await tempDir(t);
  const long = await joinWithSilence([speech, speech, speech, speech, speech], path.join(dir, 'long.wav'), 1.5);
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: `file:${long}`, pace: 'realtime', vocab: catchAll }));
  const heartbeat = path.join(stateDir, 'heartbeat.json');
  const hearingAudio = async (): Promise<boolean> => (JSON.parse(await readFile(heartbeat, 'utf8').catch(() => '{}')) as { lastAudioAt?: string | null }).lastAudioAt != null;
  await waitFor('a heartbeat with audio', async () => (await hearingAudio()) || !daemon.running, 30_000);
  t.ok(daemon.running, 'still running in real time');
  const doctor = await runCli(t, ['doctor', '--quick'], { GEARHEAR_STATE_DIR: stateDir });
  t.equal(doctor.code, 0, `doctor --quick: exit 0 (${doctor.stdout.trim()})`);
  t.match(doctor.stdout, `daemon: ok — daemon pid ${daemon.child.pid} alive`, 'names the running daemon');
  daemon.child.kill('SIGTERM');
  const r = await daemon.exit(30_000);
  t.equal(r.code, 0, 'exit 0: stopped cleanly before its 10 s shutdown deadline');
  t.ok(daemon.logs().some((l) => l.msg === 'stopping' && l.reason === 'signal SIGTERM'), 'stopped because of the signal');
  await waitFor('offline', () => sub.on('status').some((m) => m.payload === 'offline'), 5000);
  t.equal(sub.on('status').at(-1)?.payload, 'offline', 'offline was the last status');
  t.equal(await retained(broker.url, 'status'), 'offline', 'and is retained');
});

