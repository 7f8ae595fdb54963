/**
 * A password inside mqtt.url is shown nowhere (config print, doctor, the retained `info` topic), and
 * `doctor` connects to the broker exactly as the daemon does: with mqtt.ca, mqtt.cert and mqtt.key.
 * Real mosquitto with TLS, client certificates and a password file; the built CLI.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { makeCertificates } from '../fixtures/certificates.js';
import { daemonEnv, retained } from '../fixtures/daemon-helpers.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { runCli, sayWithSlt, tempDir, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';

const SECRET = 'hunter2-in-the-url';
const dir = await tempDir(t, 'gearhear-broker-secrets-');
const certs = await makeCertificates(dir);
const broker = await startMosquitto({
  tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey, requireCertificate: true },
  users: [['gh', SECRET]],
});
t.teardown(() => broker.close());
const url = `mqtts://gh:${SECRET}@127.0.0.1:${broker.port}`;
const tlsEnv = { GEARHEAR_MQTT_CA: certs.ca, GEARHEAR_MQTT_CERT: certs.clientCert, GEARHEAR_MQTT_KEY: certs.clientKey };

t.test('config print masks the user-info of mqtt.url', async (t) => {
  const r = await runCli(t, ['config', 'print'], { GEARHEAR_MQTT_URL: url });
  t.equal(r.code, 0, { stderr: r.stderr });
  t.notMatch(r.stdout, SECRET);
  t.equal((JSON.parse(r.stdout) as { mqtt: { url: string } }).mqtt.url, `mqtts://********@127.0.0.1:${broker.port}`);
});

t.test('a bad mqtt.url is reported without its password', async (t) => {
  const r = await runCli(t, ['config', 'print'], { GEARHEAR_MQTT_URL: `mqtts://gh:${SECRET}@127.0.0.1:99999999` });
  t.equal(r.code, 78);
  t.notMatch(r.stderr, SECRET);
  t.match(r.stderr, /mqtt\.url/);
});

function brokerLine(stdout: string): string {
  return stdout.split('\n').find((l) => l.startsWith('broker:')) ?? '(no broker line)';
}

t.test('doctor connects with the CA, client certificate and key, as the daemon does', async (t) => {
  const r = await runCli(t, ['doctor'], { GEARHEAR_MQTT_URL: url, ...tlsEnv, GEARHEAR_AUDIO_SOURCE: 'stdin' }, 120_000);
  t.match(brokerLine(r.stdout), /^broker: ok — connected to mqtts:\/\/\*+@127\.0\.0\.1:\d+ \(CA mqtt\.ca, client certificate mqtt\.cert\)$/, { stdout: r.stdout });
  t.notMatch(r.stdout + r.stderr, SECRET, 'the password is not printed');
});

t.test('without mqtt.ca, doctor reports the TLS failure with a hint naming keys that exist', async (t) => {
  const r = await runCli(t, ['doctor'], { GEARHEAR_MQTT_URL: url, GEARHEAR_AUDIO_SOURCE: 'stdin' }, 120_000);
  const line = brokerLine(r.stdout);
  t.match(line, /^broker: FAILED — TLS handshake with mqtts:\/\/\*+@127\.0\.0\.1:\d+ failed: .*check mqtt\.ca/);
  t.notMatch(line, /mqtt\.tls/, 'no key that does not exist');
  t.equal(r.code, 1);
});

t.test('the retained info topic carries no password from the URL', async (t) => {
  const stateDir = path.join(dir, 'state');
  const wav = await sayWithSlt('check the gearbox', path.join(dir, 'say.wav'));
  const vocab = await writeCatchAllVocab(dir, ['gearbox']);
  const r = await runCli(t, ['run'], { ...daemonEnv({ url, stateDir, source: `file:${wav}`, vocab }), ...tlsEnv }, 120_000);
  t.equal(r.code, 0, 'the daemon ran to the end of the file', { stderr: r.stderr.slice(-2000) });
  t.notMatch(r.stderr, SECRET, 'not in the log');
  const info = await retained(`mqtts://127.0.0.1:${broker.port}`, 'info', {
    username: 'gh', password: SECRET, ca: await readFile(certs.ca), cert: await readFile(certs.clientCert), key: await readFile(certs.clientKey),
  });
  t.ok(info, 'info is retained');
  t.notMatch(info ?? '', SECRET, 'not in info');
  t.match(JSON.parse(info ?? '{}'), { config: { mqtt: { url: `mqtts://********@127.0.0.1:${broker.port}` } } });
});
