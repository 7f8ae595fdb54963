/**
 * What the command line says when a person got something wrong (issue 21): every message balanced,
 * naming what is wrong, never a secret, never Node's own words; and the limits that keep values
 * inside what MQTT carries. The built CLI in a child process.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { runCli, spawnCli, tempDir } from '../fixtures/gearhear-cli.js';

const EX_CONFIG = 78;
const dir = await tempDir(t, 'gearhear-messages-');

t.test('an unknown option: the hint about "--" has balanced quotes', async (t) => {
  const r = await runCli(t, ['vocab', 'check', '--bogus']);
  t.equal(r.code, 64);
  const first = r.stderr.split('\n')[0]!;
  t.equal(first, "gearhear vocab: Unknown option '--bogus'. To name a file that starts with '-', put it after '--' at the end: gearhear vocab ... -- --bogus");
  t.equal(first.split("'").length % 2, 1, 'single quotes come in pairs');
});

t.test('an unknown key: says the key is unknown, suggests close ones, shows no value', async (t) => {
  const nope = await runCli(t, ['config', 'print', '--set', 'nope.key=1']);
  t.equal(nope.code, EX_CONFIG);
  t.match(nope.stderr, /config key nope\.key from the command line is not a known key/);
  t.notMatch(nope.stderr, /\*{8}/, 'no mask: nothing secret was shown');
  const typo = await runCli(t, ['config', 'print', '--set', 'mqtt.passwrd=hunter2-typo']);
  t.equal(typo.code, EX_CONFIG);
  t.match(typo.stderr, /mqtt\.passwrd .*not a known key .*did you mean mqtt\.password\?/);
  t.notMatch(typo.stderr, 'hunter2-typo', 'the value of a misspelt secret key is not shown');
  const file = path.join(dir, 'typo.json');
  await writeFile(file, JSON.stringify({ broker: { url: 'mqtt://x:1883' } }));
  const fromFile = await runCli(t, ['config', 'print', '--config', file]);
  t.match(fromFile.stderr, /broker\.url from config file .* is not a known key .*did you mean mqtt\.url\?/);
});

t.test('a number too large for a double: the raw text and "not a finite number", not "null"', async (t) => {
  const env = await runCli(t, ['config', 'print'], { GEARHEAR_HEALTH_INTERVAL_S: '1e309' });
  t.equal(env.code, EX_CONFIG);
  t.match(env.stderr, /health\.intervalS from environment variable GEARHEAR_HEALTH_INTERVAL_S is "1e309" \(out of range: not a finite number\): must be a duration in s from 1 to 86400/);
  t.notMatch(env.stderr, /null/);
  const bytes = await runCli(t, ['config', 'print'], { GEARHEAR_OUTBOX_MAX_BYTES: `${'9'.repeat(400)}GB` });
  t.match(bytes.stderr, /outbox\.maxBytes .* is "9{20,}\.\.\." \(out of range: not a finite number\)/);
  const file = path.join(dir, 'huge.json');
  await writeFile(file, '{"health": {"intervalS": 1e309}}');
  const fromFile = await runCli(t, ['config', 'print', '--config', file]);
  t.equal(fromFile.code, EX_CONFIG);
  t.match(fromFile.stderr, /health\.intervalS from config file .* is Infinity \(out of range: not a finite number\)/);
});

t.test('device and site ids are bounded (one topic level of at most 128 characters), with stdin left open', async (t) => {
  const long = 'a'.repeat(70_000);
  const daemon = spawnCli(t, ['run'], { GEARHEAR_DEVICE_ID: long, GEARHEAR_AUDIO_SOURCE: 'stdin', GEARHEAR_MQTT_URL: 'mqtt://127.0.0.1:9', GEARHEAR_STATE_DIR: dir }, 'pipe');
  const r = await daemon.exit(20_000);
  t.equal(r.code, EX_CONFIG, 'exit 78 at once, stdin still open');
  t.match(r.stderr, /config key device\.id from environment variable GEARHEAR_DEVICE_ID is "a{100,}\.\.\." \(70000 characters, too long for an MQTT topic level\): must be one MQTT topic level of at most 128 characters/);
  t.ok(r.stderr.length < 2000, 'the value is shown shortened');
  const site = await runCli(t, ['config', 'print'], { GEARHEAR_SITE_ID: 's'.repeat(129) });
  t.equal(site.code, EX_CONFIG);
  t.match(site.stderr, /device\.siteId .*129 characters, too long/);
  const fits = await runCli(t, ['config', 'print'], { GEARHEAR_DEVICE_ID: 'd'.repeat(128) });
  t.equal(fits.code, 0, '128 characters are fine', { stderr: fits.stderr });
});

t.test('a password with / # ? @ in mqtt.url is masked by config print, run and doctor, and refused with what to do', async (t) => {
  for (const password of ['12/34', 'pa/ss', 'x#y', 'what?now', 'a@b/c']) {
    const url = `mqtt://gh:${password}@127.0.0.1:1883`;
    for (const argv of [['config', 'print'], ['run'], ['doctor']]) {
      const r = await runCli(t, argv, { GEARHEAR_MQTT_URL: url, GEARHEAR_AUDIO_SOURCE: 'stdin', GEARHEAR_STATE_DIR: dir });
      const said = r.stdout + r.stderr;
      t.notMatch(said, password, `${argv.join(' ')} with password "${password}": not shown`);
      t.equal(r.code, EX_CONFIG, `${argv.join(' ')}: exit 78`);
      t.match(r.stderr, /mqtt\.url .* is "mqtt:\/\/\*{8}@127\.0\.0\.1:1883" \('\/', '\?', '#' and '@' in the user name or password must be percent-encoded/);
    }
  }
  const encoded = await runCli(t, ['config', 'print'], { GEARHEAR_MQTT_URL: 'mqtt://gh:pa%2Fss@127.0.0.1:1883' });
  t.equal(encoded.code, 0, 'percent-encoded, it is accepted', { stderr: encoded.stderr });
  t.equal((JSON.parse(encoded.stdout) as { mqtt: { url: string } }).mqtt.url, 'mqtt://********@127.0.0.1:1883');
});
