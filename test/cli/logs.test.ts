/**
 * What the daemon writes for people to read (issue 21, item 7): a recorder that cannot open its
 * device is reported once per retry, not three times; numbers in log lines and health payloads are
 * rounded (no `0.9588749856330664`). The built CLI, the real arecord, a real mosquitto.
 */
import path from 'node:path';
import t from 'tap';
import { findOnPath } from '../../src/audio/recorder.js';
import { daemonEnv, DEVICE_ID, loadTopicSchemas, MqttRecorder } from '../fixtures/daemon-helpers.js';
import { sayWithSlt, spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { startMosquitto } from '../fixtures/mosquitto.js';

const dir = await tempDir(t, 'gearhear-logs-');
const vocab = await writeCatchAllVocab(dir);

t.test('no such sound card: arecord\'s error is logged and published once per retry', { skip: (await findOnPath('arecord')) ? false : 'alsa-utils (arecord) is not installed' }, async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = spawnCli(t, ['run', '--set', 'audio.source=mic:plughw:CARD=GearhearNoSuchCard', '--set', 'audio.restartMaxDelayMs=100',
    '--set', `mqtt.url=${broker.url}`, '--set', `state.dir=${dir}`, '--set', `vocab.file=${vocab}`, '--set', `device.id=${DEVICE_ID}`]);
  const starts = (): number => daemon.logs().filter((l) => l.msg === 'recorder started').length;
  await waitFor('four recorder starts', () => starts() >= 4 || !daemon.running, 60_000);
  daemon.child.kill('SIGTERM');
  await daemon.exit();
  // The log between one start and the next: the lines of one try.
  const tries: string[][] = [];
  for (const line of daemon.stderr.split('\n').filter((l) => l.startsWith('{'))) {
    if ((JSON.parse(line) as { msg: string }).msg === 'recorder started') tries.push([]);
    else tries.at(-1)?.push(line);
  }
  t.ok(tries.length >= 4, `the recorder was retried (${tries.length} starts)`, { stderr: daemon.stderr.slice(-3000) });
  for (const [i, lines] of tries.slice(0, -1).entries()) {
    t.equal(lines.filter((l) => l.includes('audio open error')).length, 1, `try ${i + 1}: the ALSA error once`, { lines });
  }
  const audioErrors = sub.on('error').map((m) => JSON.parse(m.payload) as { where?: string; message?: string }).filter((e) => JSON.stringify(e).includes('audio'));
  t.ok(audioErrors.length >= tries.length - 1 && audioErrors.length <= tries.length,
    `one error message per try on the error topic (${audioErrors.length} for ${tries.length} tries)`, { audioErrors });
});

/** Every number in a JSON value. */
function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(numbers);
}

/** At most 4 decimals, or 3 significant digits below 0.001. */
const readable = (x: number): boolean => Number.isInteger(x) || (Math.abs(x) < 0.001 ? Number(x.toPrecision(3)) === x : Number(x.toFixed(4)) === x);

t.test('numbers in log lines and health payloads are rounded, and health stays schema-valid', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const schemaProblem = await loadTopicSchemas();
  const speech = await sayWithSlt('check the gearbox, there is an oil leak near the bearing', path.join(dir, 'speech.wav'));
  const env = { ...daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: `file:${speech}`, pace: 'realtime', vocab }), GEARHEAR_HEALTH_INTERVAL_S: '1' };
  const daemon = spawnCli(t, ['run'], env);
  const r = await daemon.exit(120_000);
  t.equal(r.code, 0, { stderr: r.stderr.slice(-2000) });
  await waitFor('a health sample', () => sub.on('health').length > 1, 5000);

  const health = sub.on('health');
  t.same(health.map(schemaProblem).filter(Boolean), [], 'every health payload matches health.schema.json');
  const figures = health.flatMap((m) => numbers(JSON.parse(m.payload)));
  t.ok(figures.some((x) => !Number.isInteger(x)), 'health carries fractional figures (dutyCycle, realTimeFactor)');
  t.same(figures.filter((x) => !readable(x)), [], 'none has more than 4 decimals');

  const logged = daemon.logs().flatMap((l) => numbers(l));
  t.ok(daemon.hasLog('detection') && logged.some((x) => !Number.isInteger(x)), 'the log carries fractional figures (detection confidence, times)');
  t.same(logged.filter((x) => !readable(x)), [], 'no log figure has more than 4 decimals');
});
