/**
 * The `gearhear` command line: usage, configuration errors and printing, and the vocabulary
 * tools, each run as the built CLI in a child process.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { EX_USAGE, runCli, shippedVocab, tempDir } from '../fixtures/gearhear-cli.js';

const EX_CONFIG = 78;
const dir = await tempDir(t, 'gearhear-cli-');

t.test('usage: no command or an unknown one prints usage and exits 64', async (t) => {
  const none = await runCli(t, []);
  t.equal(none.code, EX_USAGE, 'no arguments: exit 64');
  t.match(none.stderr, /Usage:[\s\S]*gearhear run[\s\S]*gearhear detect/, 'prints usage on stderr');
  const unknown = await runCli(t, ['frobnicate']);
  t.equal(unknown.code, EX_USAGE, 'unknown command: exit 64');
  t.match(unknown.stderr, /unknown command "frobnicate"[\s\S]*Usage:/, 'names the command, then usage');
});

t.test('config print shows the effective configuration with secrets masked', async (t) => {
  const r = await runCli(t, ['config', 'print', '--set', 'mqtt.baseTopic=plant7'], {
    GEARHEAR_MQTT_PASSWORD: 'hunter2-secret', GEARHEAR_DEVICE_ID: 'press-4', GEARHEAR_MQTT_URL: 'mqtt://broker.local:1883',
  });
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  t.notMatch(r.stdout, 'hunter2-secret', 'the password never appears');
  const printed = JSON.parse(r.stdout) as { mqtt: { password: string; url: string; baseTopic: string }; device: { id: string } };
  t.equal(printed.mqtt.password, '********', 'the password is masked');
  t.equal(printed.mqtt.url, 'mqtt://broker.local:1883', 'environment values are applied');
  t.equal(printed.mqtt.baseTopic, 'plant7', '--set values are applied');
  t.equal(printed.device.id, 'press-4');
});

t.test('a bad configuration value exits 78 naming the key, its source and what is allowed', async (t) => {
  const env = await runCli(t, ['config', 'print'], { GEARHEAR_MQTT_KEEPALIVE_S: 'abc' });
  t.equal(env.code, EX_CONFIG, 'config print: exit 78');
  t.match(env.stderr, /mqtt\.keepaliveS.*GEARHEAR_MQTT_KEEPALIVE_S.*"abc".*must be a duration/, 'names key, variable, value and what is allowed');
  const run = await runCli(t, ['run'], { GEARHEAR_VAD_ENGINE: 'webrtc', GEARHEAR_STATE_DIR: dir });
  t.equal(run.code, EX_CONFIG, 'run: exit 78 before starting anything');
  t.match(run.stderr, /vad\.engine.*GEARHEAR_VAD_ENGINE.*"webrtc"/, 'names the key and the variable');
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ mqtt: { url: 'http://broker:1883' } }));
  const fromFile = await runCli(t, ['config', 'print', '--config', file]);
  t.equal(fromFile.code, EX_CONFIG, 'bad value in a config file: exit 78');
  t.match(fromFile.stderr, new RegExp(`mqtt\\.url from config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'names the key and the file');
  const set = await runCli(t, ['config', 'print', '--set', 'nonsense']);
  t.equal(set.code, EX_CONFIG, '--set without "=": exit 78');
  t.match(set.stderr, /key=value/);
});

t.test('vocab check: the shipped vocabulary is complete; a new one without a lexicon is not', async (t) => {
  const ok = await runCli(t, ['vocab', 'check', shippedVocab]);
  t.equal(ok.code, 0, 'exit 0', { stdout: ok.stdout });
  t.match(ok.stdout, /\d+ terms, version [0-9a-f]+/, 'counts terms and shows the version');
  t.match(ok.stdout, /ok: every term has a pronunciation/);
  const vocab = path.join(dir, 'plant.txt');
  await writeFile(vocab, 'turbocharger | category=engine severity=high\nbelt squeal | category=noise\n');
  const missing = await runCli(t, ['vocab', 'check', vocab]);
  t.equal(missing.code, 1, 'no lexicon: exit 1');
  t.match(missing.stdout, `problem: the lexicon ${path.join(dir, 'plant.lexicon.json')} is missing`, 'says that the lexicon is what is missing');
  t.match(missing.stdout, `fix: gearhear vocab compile ${vocab}`, 'says what to run');
});

t.test('vocab check reports every problem of a line with two mistakes', async (t) => {
  const vocab = path.join(dir, 'twice.txt');
  await writeFile(vocab, 'bearing\nvalve | severity=urgent threshold=2\n');
  const r = await runCli(t, ['vocab', 'check', vocab]);
  t.equal(r.code, EX_CONFIG, 'a vocabulary a person has to fix: exit 78');
  t.match(r.stderr, `${vocab}:2: term "valve": severity "urgent" is not one of`);
  t.match(r.stderr, `${vocab}:2: term "valve": threshold=2 is not a number in [0,1]`);
});

t.test('vocab compile writes the lexicon, after which check passes', async (t) => {
  const vocab = path.join(dir, 'compile-me.txt');
  await writeFile(vocab, 'turbocharger | category=engine severity=high\nbelt squeal | category=noise\nflux capacitor\n');
  const r = await runCli(t, ['vocab', 'compile', vocab, '--no-heads']);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const lexiconFile = path.join(dir, 'compile-me.lexicon.json');
  t.match(r.stdout, `wrote ${lexiconFile}`, 'names the lexicon it wrote');
  t.ok(existsSync(lexiconFile), 'the lexicon exists');
  const lexicon = JSON.parse(await readFile(lexiconFile, 'utf8')) as { words: Record<string, string[]> };
  t.same(Object.keys(lexicon.words).sort(), ['belt', 'capacitor', 'flux', 'squeal', 'turbocharger'], 'every word has an entry');
  t.ok(Object.values(lexicon.words).every((prons) => prons.length > 0 && prons.every((p) => /^[A-Z]+( [A-Z]+)*$/.test(p))), 'pronunciations are ARPAbet phones');
  const check = await runCli(t, ['vocab', 'check', vocab]);
  t.equal(check.code, 0, 'check passes after compiling');
});
