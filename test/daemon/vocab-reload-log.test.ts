/**
 * A vocabulary reload that fails (a file edit, SIGHUP) is logged, not only published on `error`:
 * the real daemon on a stdin source, a real broker, the vocabulary broken on disk.
 */
import { writeFile } from 'node:fs/promises';
import t from 'tap';
import { daemonEnv, MqttRecorder } from '../fixtures/daemon-helpers.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';

t.test('a failed reload is a log line naming the file and the problem, and an MQTT error', async (t) => {
  const broker = await startMosquitto();
  t.teardown(() => broker.close());
  const dir = await tempDir(t, 'gearhear-reload-');
  const vocab = await writeCatchAllVocab(dir, ['gearbox']);
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = spawnCli(t, ['run'], daemonEnv({ url: broker.url, stateDir: dir, source: 'stdin', vocab }), 'pipe');
  await waitFor('the daemon listening', () => daemon.hasLog('listening'), 60_000);
  const failures = () => daemon.logs().filter((l) => l.level === 'error' && /vocabulary reload \((file change|signal)\) failed/.test(l.msg));

  await writeFile(vocab, 'gearbox | severity=urgent\n');
  await waitFor('a log line for the failed reload after the edit', () => failures().length >= 1, 15_000);
  const edit = failures()[0]!;
  t.match(edit.msg, /file change/);
  t.match(edit.msg, `${vocab}:1`, 'names file and line');
  t.match(edit.msg, /severity "urgent"/, 'and the problem');
  t.equal(edit.file, vocab);

  daemon.child.kill('SIGHUP');
  await waitFor('a log line for the failed reload on SIGHUP', () => failures().some((l) => /\(signal\)/.test(l.msg)), 15_000);
  await waitFor('the errors on MQTT as well', () => sub.on('error').filter((m) => /vocabulary reload/.test(m.payload)).length >= 2, 15_000);

  daemon.child.stdin!.end();
  const r = await daemon.exit(60_000);
  t.equal(r.code, 0, 'the daemon kept running with the previous vocabulary and ended cleanly');
});
