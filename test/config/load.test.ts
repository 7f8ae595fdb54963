import t from 'tap';
import path from 'node:path';
import { ConfigError, EX_CONFIG, loadConfig } from '../../src/config/index.js';
import { expectConfigError, load, repoRoot, tempDir, writeFile } from './helpers.js';

t.test('defaults load into a typed object', async (t) => {
  const { config, sources, configFile } = load();
  t.equal(configFile, null);
  t.equal(config.device.id, 'test-host', 'device id falls back to the hostname');
  t.equal(config.audio.source, 'mic');
  t.equal(config.mqtt.url, 'mqtt://localhost:1883');
  t.equal(config.mqtt.rejectUnauthorized, true);
  t.equal(config.vad.engine, 'silero');
  t.equal(config.outbox.maxBytes, 50_000_000);
  t.equal(config.model.dir, path.join(repoRoot, 'models/gearhear-kws'), 'model default resolves against the package root');
  t.equal(config.vocab.file, path.join(repoRoot, 'vocab/mechanical-en.txt'));
  t.same(config.mqtt.faultCategories, []);
  t.equal(sources['mqtt.url'], 'default');
  t.equal(EX_CONFIG, 78);
});

t.test('device id comes from BALENA_DEVICE_UUID before the hostname', async (t) => {
  t.equal(load({ env: { BALENA_DEVICE_UUID: 'abc123' } }).config.device.id, 'abc123');
  t.equal(load({ env: { BALENA_DEVICE_UUID: 'abc123', GEARHEAR_DEVICE_ID: 'press-4' } }).config.device.id, 'press-4');
});

t.test('file < env < cli', async (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'config.json', JSON.stringify({
    mqtt: { url: 'mqtt://from-file:1883', baseTopic: 'plant1/gearhear' },
    vad: { threshold: 0.3 },
    kws: { boost: 1.5 },
  }));
  const env = { GEARHEAR_MQTT_URL: 'mqtt://from-env:1883', GEARHEAR_VAD_THRESHOLD: '0.4' };
  const { config, sources } = load({ configFile: file, env, argvOverrides: { 'mqtt.url': 'mqtts://from-cli:8883' } });
  t.equal(config.mqtt.url, 'mqtts://from-cli:8883');
  t.equal(config.vad.threshold, 0.4);
  t.equal(config.kws.boost, 1.5);
  t.equal(config.mqtt.baseTopic, 'plant1/gearhear');
  t.equal(config.vad.engine, 'silero');
  t.same(
    [sources['mqtt.url'], sources['vad.threshold'], sources['kws.boost'], sources['vad.engine']],
    ['cli', 'env GEARHEAR_VAD_THRESHOLD', `file ${file}`, 'default'],
  );
  const nested = load({ configFile: file, env, argvOverrides: { vad: { engine: 'energy' } } }).config;
  t.equal(nested.vad.engine, 'energy', 'nested CLI overrides work too');
  t.equal(nested.mqtt.url, 'mqtt://from-env:1883');
});

t.test('config file: --config, else GEARHEAR_CONFIG, else the default path if it exists', async (t) => {
  const dir = tempDir(t);
  const a = writeFile(dir, 'a.json', '{"log": {"level": "debug"}}');
  const b = writeFile(dir, 'b.json', '{"log": {"level": "warn"}}');
  t.equal(load({ configFile: a, env: { GEARHEAR_CONFIG: b } }).config.log.level, 'debug');
  t.equal(load({ env: { GEARHEAR_CONFIG: b } }).config.log.level, 'warn');
  t.equal(load({ defaultConfigFile: a }).config.log.level, 'debug');
  const empty = writeFile(dir, 'empty.json', '');
  t.equal(load({ configFile: empty }).config.log.level, 'info', 'an empty file is no settings');
  const missing = path.join(dir, 'missing.json');
  const err = t.throws(() => load({ configFile: missing })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.source, `file ${missing}`);
  t.match(err.message, missing);
  t.match(err.message, /does not exist/);
});

t.test('invalid JSON in the config file names the file', async (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'broken.json', '{ "mqtt": { "url": "mqtt://x" ');
  const err = t.throws(() => load({ configFile: file })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.source, `file ${file}`);
  t.match(err.message, file);
  t.match(err.message, /valid JSON/);
  const notObject = writeFile(dir, 'list.json', '[1, 2]');
  t.throws(() => load({ configFile: notObject }), { message: /JSON object of settings/ });
});

t.test('unknown keys in the file are errors naming the key and the file', async (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'config.json', JSON.stringify({ mqtt: { urll: 'mqtt://x:1883' } }));
  const err = t.throws(() => load({ configFile: file })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.key, 'mqtt.urll');
  t.equal(err.source, `file ${file}`);
  t.match(err.message, file);
  t.match(err.message, /mqtt\.urll/);
  t.match(err.message, /mqtt\.url\b/, 'lists the known keys of the group');
  const top = writeFile(dir, 'top.json', '{"mqttt": {"url": "mqtt://x"}}');
  expectConfigError(t, () => load({ configFile: top }), { key: 'mqttt.url', message: /known here: device, audio/ });
});

t.test('unknown GEARHEAR_* variables and CLI keys are errors', async (t) => {
  expectConfigError(t, () => load({ env: { GEARHEAR_MQTT_URLL: 'mqtt://x' } }), { source: 'env GEARHEAR_MQTT_URLL', message: /GEARHEAR_MQTT_URL\b/ });
  expectConfigError(t, () => load({ argvOverrides: { 'vad.engin': 'energy' } }), { key: 'vad.engin', source: 'cli' });
  t.doesNotThrow(() => load({ env: { OTHER_VAR: 'x', GEARHEAR_CONFIG: '' } }), 'non-GEARHEAR variables are ignored');
});

t.test('relative paths: file values against the file, env and cli against cwd', async (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'config.json', JSON.stringify({ vocab: { file: 'my-vocab.txt' } }));
  const { config } = load({ configFile: file, env: { GEARHEAR_STATE_DIR: 'state' }, cwd: '/srv/app', argvOverrides: { 'model.dir': 'm' } });
  t.equal(config.vocab.file, path.join(dir, 'my-vocab.txt'));
  t.equal(config.state.dir, '/srv/app/state');
  t.equal(config.model.dir, '/srv/app/m');
});

t.test('loadConfig reads process.env by default', async (t) => {
  const saved = process.env.GEARHEAR_LOG_LEVEL;
  process.env.GEARHEAR_LOG_LEVEL = 'error';
  t.teardown(() => (saved === undefined ? delete process.env.GEARHEAR_LOG_LEVEL : (process.env.GEARHEAR_LOG_LEVEL = saved)));
  t.equal(loadConfig({ defaultConfigFile: '/nonexistent/config.json' }).log.level, 'error');
});
