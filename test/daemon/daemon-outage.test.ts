/**
 * `gearhear run` when the broker is away or the daemon dies: detections wait in the outbox on disk
 * and reach the broker later, at least once each. Real mosquitto, reached through a TCP proxy that
 * can refuse connections (a broker that is not running) while the test's subscriber stays connected.
 */
import path from 'node:path';
import t from 'tap';
import { startMosquitto, TcpProxy } from '../fixtures/mosquitto.js';
import { joinWithSilence, sayWithSlt, spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { daemonEnv, loadTopicSchemas, MqttRecorder, readOutbox } from '../fixtures/daemon-helpers.js';

const EXIT_DRAIN_TIMEOUT = 75;

const dir = await tempDir(t, 'gearhear-outage-');
const broker = await startMosquitto();
t.teardown(() => broker.close());
const schemaProblem = await loadTopicSchemas();
const vocab = await writeCatchAllVocab(dir);
const speech = await sayWithSlt('check the pump on the second floor, the motor there runs loud', path.join(dir, 'speech.wav'));

t.test('no broker: detections stay in the outbox; once the broker is reachable every one arrives', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const proxy = await TcpProxy.create(broker.port);
  await proxy.shut();
  t.teardown(() => proxy.shut());
  const viaProxy = `mqtt://127.0.0.1:${proxy.port}`;
  const stateDir = await tempDir(t);

  const first = spawnCli(t, ['run'], daemonEnv({ url: viaProxy, stateDir, source: `file:${speech}`, vocab, drainTimeoutMs: 1000 }));
  const r1 = await first.exit();
  t.equal(r1.code, EXIT_DRAIN_TIMEOUT, 'a short drain timeout and no broker: exit 75', { stderr: r1.stderr.slice(-2000) });
  t.ok(first.hasLog('gave up waiting for the broker to acknowledge every detection; they stay in the outbox for the next start'), 'says the detections stay in the outbox');
  const kept = await readOutbox(stateDir);
  t.ok(kept.records.length > 0, `the outbox holds ${kept.records.length} detections`);
  t.equal(kept.ackedThrough, 0, 'none acknowledged');

  const second = spawnCli(t, ['run'], daemonEnv({ url: viaProxy, stateDir, source: `file:${speech}`, vocab, drainTimeoutMs: 60_000 }));
  const storedMore = async (): Promise<boolean> => (await readOutbox(stateDir)).records.length > kept.records.length || !second.running;
  await waitFor('the second run to store its own detections', storedMore, 40_000);
  t.ok(second.running, 'the second run waits for the broker with its detections in the outbox');
  t.equal(sub.on('detection').length, 0, 'nothing reached the broker yet');
  await proxy.open();
  const r2 = await second.exit();
  t.equal(r2.code, 0, 'once the broker is reachable the second run drains and exits 0', { stderr: r2.stderr.slice(-2000) });
  const received = sub.detections();
  const receivedSeq = new Map(received.map((d) => [d.id, d.seq]));
  t.same(kept.records.filter((rec) => receivedSeq.get(rec.id) !== rec.seq).map((rec) => rec.seq), [], `all ${kept.records.length} detections of the first run arrived with their seq`);
  const ofSecond = received.filter((d) => !kept.records.some((rec) => rec.id === d.id));
  t.equal(ofSecond.length, second.logs().filter((l) => l.msg === 'detection').length, `so did all ${ofSecond.length} of the second run`);
  t.ok(ofSecond.every((d) => d.seq > Math.max(...kept.records.map((rec) => rec.seq))), 'the second run numbers its detections after the first run');
  t.same(sub.on('detection').map(schemaProblem).filter(Boolean), [], 'replayed detections validate against the schema');
});

t.test('SIGKILL mid-run: a restart on the same state dir delivers every stored detection at least once', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const stateDir = await tempDir(t);
  const long = await joinWithSilence([speech, speech, speech, speech], path.join(dir, 'long.wav'), 1);
  const first = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: `file:${long}`, pace: 'realtime', vocab }));
  await waitFor('a detection from the first run', () => sub.detections().length > 0 || !first.running, 40_000);
  t.ok(first.running, 'the first run is still listening');
  first.child.kill('SIGKILL');
  const r1 = await first.exit();
  t.equal(r1.signal, 'SIGKILL', 'killed');
  const beforeRestart = await readOutbox(stateDir);
  t.ok(beforeRestart.records.length > 0, `${beforeRestart.records.length} detections were stored before the kill`);

  const second = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir, source: `file:${speech}`, vocab }));
  const r2 = await second.exit();
  t.equal(r2.code, 0, 'the restart drains and exits 0', { stderr: r2.stderr.slice(-2000) });
  const received = new Map(sub.detections().map((d) => [d.id, d.seq]));
  t.comment(`${beforeRestart.records.length - beforeRestart.ackedThrough} of them were not yet marked acknowledged on disk`);
  const missing = beforeRestart.records.filter((rec) => received.get(rec.id) !== rec.seq);
  t.same(missing.map((rec) => rec.seq), [], 'every detection stored before the kill arrived, with its seq');
  const ofRestart = sub.detections().filter((d) => !beforeRestart.records.some((rec) => rec.id === d.id));
  t.ok(ofRestart.length > 0, 'the restart made detections of its own');
  t.equal(ofRestart.length, second.logs().filter((l) => l.msg === 'detection').length, 'and delivered every one');
  t.ok(ofRestart.every((d) => d.seq > Math.max(...beforeRestart.records.map((rec) => rec.seq))), 'numbered after everything stored before the kill');
});
