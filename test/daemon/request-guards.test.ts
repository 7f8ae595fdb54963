/**
 * `gearhear run` against requests that used to take it down (issue 21), with a real mosquitto and
 * real speech on stdin: a retained `restart` no longer restarts it for ever; a flood of `clip` and
 * `health` requests is answered (a few served, the rest "busy" with their transaction) while the
 * daemon stays up, spawns a bounded number of processes and keeps publishing detections.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { sayWithSlt, spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { daemonEnv, MqttRecorder, rawS16le, topic } from '../fixtures/daemon-helpers.js';

const dir = await tempDir(t, 'gearhear-request-guards-');
// The recorder below takes every message under the device's topic, the flood's 600 requests and 600
// answers among them: mosquitto's default queue (1000 messages per client) would drop some of what a
// recorder slowed by a busy machine has not taken yet, after the daemon answered.
const broker = await startMosquitto({ extraConfig: ['max_queued_messages 0'] });
t.teardown(() => broker.close());
const vocab = await writeCatchAllVocab(dir);
// Speech, then two seconds of silence so the last clip gets its post-roll.
const speech = Buffer.concat([
  await readFile(await rawS16le(await sayWithSlt('check the bearing on the gearbox', path.join(dir, 'speech.wav')), path.join(dir, 'speech.raw'))),
  Buffer.alloc(2 * 16000 * 2),
]);

type Response = { status: string; data: Record<string, unknown>; error?: string; transaction?: string };
const responses = (sub: MqttRecorder, action: string): Response[] => sub.on(`response/${action}`).map((m) => JSON.parse(m.payload) as Response);

/** Every process below `pid`, from /proc. */
function descendants(pid: number): number {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  return children.reduce((n, c) => n + 1 + descendants(c), 0);
}

t.test('a retained restart is answered with an error once and does not restart the daemon', async (t) => {
  const restartTopic = topic('request/restart');
  const publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await publisher.publishAsync(restartTopic, '{"transaction":"stuck"}', { qos: 1, retain: true });
  t.teardown(() => publisher.endAsync());
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: 'stdin', vocab }), 'pipe');
  await waitFor('the answer', () => responses(sub, 'restart').length > 0 || !daemon.running, 60_000);
  await waitFor('listening', () => daemon.hasLog('listening') || !daemon.running, 30_000);
  await new Promise((r) => setTimeout(r, 3000));
  t.same(responses(sub, 'restart').map((r) => [r.status, r.transaction]), [['error', 'stuck']], 'one error answer, with the transaction');
  t.match(responses(sub, 'restart')[0]!.error, `mosquitto_pub -r -n -t '${restartTopic}'`, 'saying how to clear it');
  t.equal(sub.on('status').filter((m) => m.payload === 'online').length, 1, 'online once: no restart');
  t.notOk(daemon.hasLog('stopping'), 'the daemon did not stop');
  t.ok(daemon.logs().some((l) => l.level === 'warn' && l.msg.includes(`clear it with \`mosquitto_pub -r -n -t '${restartTopic}'\``)), 'a warning says how to clear it');
  // Cleared as it says while the daemon listens: the broker forwards an empty message, which must not restart it.
  await publisher.publishAsync(restartTopic, '', { qos: 1, retain: true });
  await new Promise((r) => setTimeout(r, 2000));
  t.equal(sub.on('status').filter((m) => m.payload === 'online').length, 1, 'clearing it does not restart the daemon either');
  t.equal(responses(sub, 'restart').length, 1, 'nor is it answered');
  daemon.child.stdin!.end();
  t.equal((await daemon.exit(60_000)).code, 0, 'exit 0 at end of input');
});

t.test('a flood of clip and health requests: answered, bounded, and audio still heard', async (t) => {
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const env = { ...daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: 'stdin', vocab }), GEARHEAR_EVIDENCE_ENABLED: 'true' };
  const daemon = spawnCli(t, ['run'], env, 'pipe');
  await waitFor('online', () => sub.on('status').some((m) => m.payload === 'online') || !daemon.running, 60_000);
  daemon.child.stdin!.write(speech);
  await waitFor('a first detection', () => sub.detections().length > 0 || !daemon.running, 60_000);
  const clipId = sub.detections()[0]!.clipId as string;
  await new Promise((r) => setTimeout(r, 2000)); // its clip is written once the post-roll is in

  const flood = 300;
  let mostProcesses = 0;
  const watch = setInterval(() => { mostProcesses = Math.max(mostProcesses, descendants(daemon.child.pid!)); }, 10);
  t.teardown(() => clearInterval(watch));
  const secondSpeechStart = speech.length / (16000 * 2); // stream seconds
  const heardDuringFlood = (): number => sub.detections().filter((d) => (d.start as number) >= secondSpeechStart).length;
  const publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 }); // the recorder only listens
  t.teardown(() => publisher.endAsync());
  const requests = Array.from({ length: flood }, (_, i) => [
    publisher.publishAsync(topic('request/clip'), JSON.stringify({ id: clipId, transaction: `c${i}` }), { qos: 1 }),
    publisher.publishAsync(topic('request/health'), JSON.stringify({ transaction: `h${i}` }), { qos: 1 }),
  ]).flat();
  daemon.child.stdin!.write(speech); // more speech during the flood
  await Promise.all(requests);
  await waitFor('every request answered', () => responses(sub, 'clip').length >= flood && responses(sub, 'health').length >= flood || !daemon.running, 120_000);
  await waitFor('detections of the speech sent during the flood', () => heardDuringFlood() > 0 || !daemon.running, 60_000);
  clearInterval(watch);

  t.ok(daemon.running, 'the daemon is still running', { stderr: daemon.stderr.slice(-2000) });
  for (const [action, prefix] of [['clip', 'c'], ['health', 'h']] as const) {
    const answers = responses(sub, action);
    t.equal(answers.length, flood, `${action}: one answer per request`);
    t.same(new Set(answers.map((a) => a.transaction)), new Set(Array.from({ length: flood }, (_, i) => `${prefix}${i}`)), `${action}: each with its transaction`);
    const busy = answers.filter((a) => a.status === 'error');
    t.ok(busy.length > 0 && busy.every((a) => /^busy: /.test(a.error!)), `${action}: ${busy.length} answered busy, the others served`);
    t.ok(answers.some((a) => a.status === 'ok'), `${action}: some served`);
  }
  const clip = responses(sub, 'clip').find((a) => a.status === 'ok')!;
  t.equal(clip.data.clipId, clipId, 'a served clip is the clip asked for');
  const rssMb = responses(sub, 'health').filter((a) => a.status === 'ok').map((a) => (a.data.process as { rssMb: number }).rssMb);
  t.ok(Math.max(...rssMb) < 300, `resident memory stays under the 300 MB budget (at most ${Math.max(...rssMb)} MB)`);
  t.notOk(daemon.logs().some((l) => l.msg === 'memory budget' && l.to === 'exceeded'), 'the memory budget was never exceeded');
  t.ok(mostProcesses <= 12, `child processes at once stay few (${mostProcesses}): health samples share one system reading`);
  t.ok(heardDuringFlood() > 0, `audio kept being heard: ${heardDuringFlood()} detection(s) of the speech sent during the flood`);

  const before = responses(sub, 'health').length;
  await sub.client.publishAsync(topic('request/health'), '{"transaction":"after"}', { qos: 1 });
  await waitFor('the answer after the flood', () => responses(sub, 'health').length > before, 30_000);
  t.equal(responses(sub, 'health').at(-1)!.status, 'ok', 'after the flood, requests are served again');
  daemon.child.stdin!.end();
  t.equal((await daemon.exit(60_000)).code, 0, 'exit 0 at end of input');
});
