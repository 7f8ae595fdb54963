import t from 'tap';
import { ConfigError } from '../../src/config/index.js';
import { makeCertificates } from '../fixtures/certificates.js';
import { expectConfigError, load, tempDir, writeFile } from './helpers.js';

t.test('env booleans: 0/false/no/off are false, 1/true/yes/on true, anything else an error', async (t) => {
  for (const word of ['0', 'false', 'no', 'off', 'OFF', ' False ']) {
    t.equal(load({ env: { GEARHEAR_MQTT_REJECT_UNAUTHORIZED: word } }).config.mqtt.rejectUnauthorized, false, `"${word}" is false`);
  }
  for (const word of ['1', 'true', 'yes', 'on', 'YES']) {
    t.equal(load({ env: { GEARHEAR_MQTT_HOME_ASSISTANT_ENABLED: word } }).config.mqtt.homeAssistant.enabled, true, `"${word}" is true`);
  }
  const err = t.throws(() => load({ env: { GEARHEAR_MQTT_HOME_ASSISTANT_ENABLED: 'maybe' } })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.key, 'mqtt.homeAssistant.enabled');
  t.equal(err.value, 'maybe');
  t.equal(err.source, 'env GEARHEAR_MQTT_HOME_ASSISTANT_ENABLED');
  t.match(err.message, /mqtt\.homeAssistant\.enabled/);
  t.match(err.message, /GEARHEAR_MQTT_HOME_ASSISTANT_ENABLED/);
  t.match(err.message, /"maybe"/);
  t.match(err.allowed, /0\/false\/no\/off/);
});

t.test('numbers: NaN, empty, non-numeric and out-of-range values are rejected', async (t) => {
  for (const bad of ['abc', '', 'NaN', '12abc', '0x10', 'Infinity']) {
    expectConfigError(t, () => load({ env: { GEARHEAR_VAD_ENERGY_MARGIN_DB: bad } }), { key: 'vad.energyMarginDb', source: 'env GEARHEAR_VAD_ENERGY_MARGIN_DB' }, `"${bad}" rejected`);
  }
  expectConfigError(t, () => load({ env: { GEARHEAR_VAD_THRESHOLD: '1.5' } }), { key: 'vad.threshold', message: /from 0 to 1/ });
  expectConfigError(t, () => load({ env: { GEARHEAR_MODEL_INTRA_OP_THREADS: '2.5' } }), { key: 'model.intraOpThreads', message: /an integer/ });
  expectConfigError(t, () => load({ argvOverrides: { 'vad.threshold': Number.NaN } }), { key: 'vad.threshold', source: 'cli' });
  const ok = load({ env: { GEARHEAR_VAD_THRESHOLD: ' 0.25 ', GEARHEAR_VAD_MIN_LEVEL_DBFS: '-45.5', GEARHEAR_MODEL_INTRA_OP_THREADS: '2' } }).config;
  t.equal(ok.vad.threshold, 0.25);
  t.equal(ok.vad.minLevelDbfs, -45.5);
  t.equal(ok.model.intraOpThreads, 2);
  const dir = tempDir(t);
  const file = writeFile(dir, 'c.json', '{"vad": {"threshold": "0.7", "preRollMs": true}}');
  expectConfigError(t, () => load({ configFile: file }), { key: 'vad.preRollMs', source: `file ${file}` }, 'a JSON boolean is not a number');
});

t.test('durations and sizes take units and convert to the key\'s unit', async (t) => {
  const { config } = load({
    env: { GEARHEAR_AUDIO_WATCHDOG_MS: '2s', GEARHEAR_OUTBOX_MAX_AGE_H: '2d', GEARHEAR_MQTT_FAULT_OFF_AFTER_S: '5m', GEARHEAR_OUTBOX_MAX_BYTES: '20MB' },
    argvOverrides: { 'vad.hangoverMs': '250ms', 'health.intervalS': 30 },
  });
  t.equal(config.audio.watchdogMs, 2000);
  t.equal(config.outbox.maxAgeH, 48);
  t.equal(config.mqtt.faultOffAfterS, 300);
  t.equal(config.outbox.maxBytes, 20_000_000);
  t.equal(config.vad.hangoverMs, 250);
  t.equal(config.health.intervalS, 30);
  expectConfigError(t, () => load({ env: { GEARHEAR_AUDIO_WATCHDOG_MS: '5 parsecs' } }), { key: 'audio.watchdogMs' });
  expectConfigError(t, () => load({ env: { GEARHEAR_AUDIO_WATCHDOG_MS: '100ms' } }), { key: 'audio.watchdogMs', message: /from 500/ });
});

t.test('comma lists: items trimmed, empty items dropped', async (t) => {
  t.same(load({ env: { GEARHEAR_MQTT_FAULT_CATEGORIES: ' bearing , ,belt,, ' } }).config.mqtt.faultCategories, ['bearing', 'belt']);
  t.same(load({ env: { GEARHEAR_MQTT_FAULT_CATEGORIES: '' } }).config.mqtt.faultCategories, []);
  const dir = tempDir(t);
  const file = writeFile(dir, 'c.json', JSON.stringify({ mqtt: { faultCategories: [' pump ', '', 'valve'] } }));
  t.same(load({ configFile: file }).config.mqtt.faultCategories, ['pump', 'valve'], 'a JSON array is trimmed too');
  const bad = writeFile(dir, 'bad.json', JSON.stringify({ mqtt: { faultCategories: [1, 2] } }));
  expectConfigError(t, () => load({ configFile: bad }), { key: 'mqtt.faultCategories' });
});

t.test('enums list the allowed values', async (t) => {
  expectConfigError(t, () => load({ env: { GEARHEAR_VAD_ENGINE: 'webrtc' } }), { key: 'vad.engine', allowed: 'one of silero, energy', message: /GEARHEAR_VAD_ENGINE.*"webrtc".*silero, energy/ });
  t.equal(load({ env: { GEARHEAR_VAD_ENGINE: ' energy ' } }).config.vad.engine, 'energy');
});

t.test('audio.source must be mic, mic:<device>, file:<path> or stdin', async (t) => {
  const wav = writeFile(tempDir(t), 'test.wav', 'RIFF');
  for (const good of ['mic', 'mic:plughw:CARD=Device,DEV=0', `file:${wav}`, 'stdin']) {
    t.equal(load({ env: { GEARHEAR_AUDIO_SOURCE: good } }).config.audio.source, good);
  }
  for (const bad of ['usb', 'mic:', 'file:', 'http://stream', '']) {
    const err = t.throws(() => load({ env: { GEARHEAR_AUDIO_SOURCE: bad } }), `"${bad}" rejected`) as ConfigError;
    t.equal(err.key, 'audio.source');
    t.match(err.message, /GEARHEAR_AUDIO_SOURCE/);
    t.match(err.message, /mic:<alsa device>/);
  }
});

t.test('mqtt.url is embedded or an MQTT URL; topics have no wildcards', async (t) => {
  t.equal(load({ env: { GEARHEAR_MQTT_URL: 'embedded' } }).config.mqtt.url, 'embedded');
  t.equal(load({ env: { GEARHEAR_MQTT_URL: 'wss://broker.example/mqtt' } }).config.mqtt.url, 'wss://broker.example/mqtt');
  for (const bad of ['http://broker', 'broker:1883', 'mqtt://']) expectConfigError(t, () => load({ env: { GEARHEAR_MQTT_URL: bad } }), { key: 'mqtt.url' }, bad);
  expectConfigError(t, () => load({ env: { GEARHEAR_DEVICE_ID: 'a/b' } }), { key: 'device.id' });
  expectConfigError(t, () => load({ env: { GEARHEAR_MQTT_BASE_TOPIC: 'gear/#' } }), { key: 'mqtt.baseTopic' });
});

t.test('TLS files must be readable PEM; a client cert needs its key', async (t) => {
  const dir = tempDir(t);
  const certs = await makeCertificates(dir);
  const missing = `${dir}/nope.pem`;
  expectConfigError(t, () => load({ env: { GEARHEAR_MQTT_CA: missing } }), { key: 'mqtt.ca', source: 'env GEARHEAR_MQTT_CA', message: /readable file/ });
  expectConfigError(t, () => load({ env: { GEARHEAR_MQTT_CERT: certs.clientCert } }), { key: 'mqtt.key', message: /mqtt\.cert/ });
  t.equal(load({ env: { GEARHEAR_MQTT_CERT: certs.clientCert, GEARHEAR_MQTT_KEY: certs.clientKey, GEARHEAR_MQTT_CA: certs.ca } }).config.mqtt.key, certs.clientKey);
});
