import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { MqttPublisher } from '../../src/publish/publisher.js';
import { EMBEDDED_CREDENTIALS_FILE, embeddedCredentials, startEmbeddedBroker } from '../../src/publish/embedded-broker.js';
import { silentLogger } from '../../src/log.js';
import { Collector, detectionInput, loadSchemas, publisherOptions, tempDir, waitFor } from './helpers.js';

const run = promisify(execFile);

t.test('url "embedded" runs an in-process broker; a subscriber receives a detection', async (t) => {
  const validate = await loadSchemas();
  const publisher = new MqttPublisher(publisherOptions('embedded', await tempDir(t), { embeddedPort: 0 }));
  publisher.on('error', (e) => t.fail(e.message));
  await publisher.start();
  const url = publisher.embeddedUrl;
  t.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  t.not(url, 'mqtt://127.0.0.1:0', 'the bound port is exposed');
  const sub = await Collector.connect(url!, ['gearhear/#'], { ...publisher.embeddedCredentials });
  await waitFor('connected', () => publisher.stats().connected);
  await publisher.publishDetection(detectionInput(7));
  t.equal(await publisher.drain(10_000), true);
  await waitFor('detection', () => sub.on('gearhear/dev1/detection').length === 1);
  const d = JSON.parse(sub.on('gearhear/dev1/detection')[0]!.payload) as Record<string, unknown>;
  t.equal(validate('detection.schema.json', d), null);
  t.equal(d.term, 'term7');
  await sub.close();
  await publisher.stop();
});

t.test('an embedded broker port already in use is a clear error', async (t) => {
  const credentials = { username: 'gearhear', password: 'a-password-for-this-test' };
  const first = await startEmbeddedBroker({ port: 0, credentials, logger: silentLogger });
  t.teardown(() => first.stop());
  await t.rejects(startEmbeddedBroker({ port: first.port, credentials, logger: silentLogger }), { message: new RegExp(`embedded MQTT broker cannot listen on 127\\.0\\.0\\.1:${first.port}: .*port in use`) });
});

/** mosquitto_pub, a real MQTT client from another process on the same machine. */
async function mosquittoPub(port: number, args: string[]): Promise<{ code: number; stderr: string }> {
  return run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args]).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }),
  );
}

t.test('the embedded broker admits only the account generated into the state directory', async (t) => {
  const stateDir = await tempDir(t);
  const publisher = new MqttPublisher(publisherOptions('embedded', stateDir, { embeddedPort: 0 }));
  await publisher.start();
  t.teardown(() => publisher.stop());
  await waitFor('connected', () => publisher.stats().connected);
  const port = Number(new URL(publisher.embeddedUrl!).port);
  const file = path.join(stateDir, EMBEDDED_CREDENTIALS_FILE);
  t.equal((await stat(file)).mode & 0o777, 0o600, `${EMBEDDED_CREDENTIALS_FILE} is readable by its owner only`);
  const saved = JSON.parse(await readFile(file, 'utf8')) as { username: string; password: string };
  t.same(saved, publisher.embeddedCredentials, 'the file holds the account the daemon uses');
  t.ok(saved.password.length >= 24, 'a long random password');

  const anonymous = await mosquittoPub(port, ['-t', 'gearhear/dev1/status', '-r', '-m', 'hijacked']);
  t.not(anonymous.code, 0, 'a client without credentials is refused');
  t.match(anonymous.stderr, /not authori[sz]ed|bad user ?name or password/i);
  const wrong = await mosquittoPub(port, ['-u', saved.username, '-P', 'guessed', '-t', 'gearhear/dev1/status', '-r', '-m', 'hijacked']);
  t.not(wrong.code, 0, 'a wrong password is refused');

  const sub = await Collector.connect(publisher.embeddedUrl!, ['gearhear/dev1/status'], { ...saved });
  t.teardown(() => sub.close());
  await waitFor('retained status', () => sub.on('gearhear/dev1/status').length > 0);
  t.same(sub.on('gearhear/dev1/status').map((m) => m.payload), ['online'], 'the retained status is still the daemon\'s');

  const allowed = await mosquittoPub(port, ['-u', saved.username, '-P', saved.password, '-t', 'gearhear/dev1/probe', '-m', 'hello']);
  t.equal(allowed.code, 0, 'a local client with the credentials from the file connects', { stderr: allowed.stderr });
});

t.test('the account survives a restart and a damaged file is replaced', async (t) => {
  const stateDir = await tempDir(t);
  const first = await embeddedCredentials(stateDir);
  t.same(await embeddedCredentials(stateDir), first, 'read back, not regenerated');
  await writeFile(path.join(stateDir, EMBEDDED_CREDENTIALS_FILE), '{"username":');
  const replaced = await embeddedCredentials(stateDir);
  t.not(replaced.password, first.password, 'a damaged file gets a new account');
  t.same(await embeddedCredentials(stateDir), replaced);
});
