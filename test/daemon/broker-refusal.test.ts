/**
 * A broker that refuses the daemon (wrong password: CONNACK refused) is logged once, naming the
 * broker, the reason and what to check, however many times the daemon tries again (issue 21, item 7).
 */
import t from 'tap';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { spawnCli, tempDir, waitFor, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { daemonEnv } from '../fixtures/daemon-helpers.js';

const dir = await tempDir(t, 'gearhear-refusal-');
const broker = await startMosquitto({ users: [['gearhear', 'right-password']] });
t.teardown(() => broker.close());
const vocab = await writeCatchAllVocab(dir);

t.test('a refused connection is logged once, not once per attempt nor twice per refusal', async (t) => {
  const env = { ...daemonEnv({ url: broker.url, stateDir: await tempDir(t), source: 'stdin', vocab }), GEARHEAR_MQTT_USERNAME: 'gearhear', GEARHEAR_MQTT_PASSWORD: 'wrong-password' };
  const daemon = spawnCli(t, ['run'], env, 'pipe');
  const refusals = (): string[] => daemon.stderr.split('\n').filter((l) => l.includes('refused the connection'));
  await waitFor('the refusal in the log', () => refusals().length > 0 || !daemon.running, 60_000);
  // Reconnects back off from 1 s: wait for the broker to refuse at least two more attempts.
  const refusedByBroker = async (): Promise<number> => (await broker.log()).split('\n').filter((l) => /not authori[sz]ed|bad user name or password/i.test(l)).length;
  await waitFor('two more attempts', async () => (await refusedByBroker()) >= 3 || !daemon.running, 30_000);
  t.ok(daemon.running, 'the daemon keeps running and trying', { stderr: daemon.stderr.slice(-2000) });
  t.equal(refusals().length, 1, `one log line for ${await refusedByBroker()} refusals`, { lines: refusals() });
  t.match(refusals()[0], /refused the connection: .*\(CONNACK code [45]\); check the MQTT username and password/, 'naming the reason, the code and what to check');
  daemon.child.stdin!.end();
  await daemon.exit(60_000);
});
