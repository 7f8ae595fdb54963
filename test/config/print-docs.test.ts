import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MASK, printableConfig, renderConfigDocs, schemaKeys } from '../../src/config/index.js';
import { expectConfigError, load, repoRoot, tempDir, writeFile } from './helpers.js';

t.test('printableConfig masks the password from env', async (t) => {
  const { config } = load({ env: { GEARHEAR_MQTT_PASSWORD: 's3cret-pw', GEARHEAR_MQTT_USERNAME: 'gearhear' } });
  t.equal(config.mqtt.password, 's3cret-pw', 'the loaded config keeps the real password');
  const text = printableConfig(config);
  t.notMatch(text, /s3cret-pw/);
  const printed = JSON.parse(text);
  t.equal(printed.mqtt.password, MASK);
  t.equal(printed.mqtt.username, 'gearhear');
  t.equal(config.mqtt.password, 's3cret-pw', 'printing does not change the config');
  t.equal(JSON.parse(printableConfig(load().config)).mqtt.password, '', 'an unset password shows as empty');
});

t.test('the password file is read (trailing newline dropped) and masked; not both ways at once', async (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'mqtt-password', 'from-file-pw\n');
  const { config } = load({ env: { GEARHEAR_MQTT_PASSWORD_FILE: file } });
  t.equal(config.mqtt.password, 'from-file-pw');
  t.notMatch(printableConfig(config), /from-file-pw/);
  expectConfigError(t, () => load({ env: { GEARHEAR_MQTT_PASSWORD_FILE: file, GEARHEAR_MQTT_PASSWORD: 'x' } }), { key: 'mqtt.passwordFile', message: /one way only/ });
});

t.test('a bad secret is not echoed in the error', async (t) => {
  const dir = tempDir(t);
  const file = writeFile(dir, 'c.json', JSON.stringify({ mqtt: { password: 12345678 } }));
  const err = t.throws(() => load({ configFile: file })) as Error;
  t.notMatch(err.message, /12345678/);
  t.match(err.message, /mqtt\.password/);
  const typo = writeFile(dir, 'typo.json', JSON.stringify({ mqtt: { passwrd: 'typo-secret' } }));
  const typoErr = t.throws(() => load({ configFile: typo })) as Error;
  t.match(typoErr.message, /mqtt\.passwrd/);
  t.notMatch(typoErr.message, /typo-secret/);
});

t.test('every key has a doc, a unique GEARHEAR_* variable and a valid default', async (t) => {
  const envs = new Set<string>();
  for (const [key, def] of schemaKeys()) {
    t.ok(def.doc.length > 10, `${key} has a doc`);
    t.match(def.env, /^GEARHEAR_[A-Z0-9_]+$/, `${key} env`);
    t.notOk(envs.has(def.env), `${def.env} is used once`);
    envs.add(def.env);
  }
  for (const required of ['GEARHEAR_MQTT_URL', 'GEARHEAR_DEVICE_ID', 'GEARHEAR_AUDIO_SOURCE', 'GEARHEAR_VOCAB', 'GEARHEAR_MODEL', 'GEARHEAR_STATE_DIR']) {
    t.ok(envs.has(required), required);
  }
});

t.test('docs/configuration.md is what the schema generates', async (t) => {
  const committed = readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8');
  t.equal(committed, renderConfigDocs(), 'regenerate with: npm run build && node dist/src/config/gen-docs.js');
  for (const [key, def] of schemaKeys()) t.match(committed, `| \`${key}\` | \`${def.env}\` |`, `${key} documented`);
});
