/**
 * What a person has to fix (a bad vocabulary, a damaged lexicon, a corrupt model) stops `run` and
 * `detect` with 78 (EX_CONFIG), which the systemd unit does not restart; `vocab check` applies the
 * same rule to terms as `run` and `detect`, naming file and line.
 */
import { copyFile, readFile, symlink, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { makeCertificates } from '../fixtures/certificates.js';
import { runCli, sayWithSlt, shippedModelDir, tempDir, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';

const EX_CONFIG = 78;
const dir = await tempDir(t, 'gearhear-exit-');
const wav = await sayWithSlt('check the gearbox', path.join(dir, 'say.wav'));
const good = await writeCatchAllVocab(dir, ['gearbox'], 'good');

/** `run` on a file source, with nothing outside the temp dir. */
const runArgs = (...set: string[]): string[] => [
  'run', '--set', `audio.source=file:${wav}`, '--set', 'audio.pace=fast', '--set', 'mqtt.url=embedded', '--set', 'mqtt.embeddedPort=0',
  '--set', `state.dir=${dir}`, '--set', 'device.id=exit-test', ...set.flatMap((s) => ['--set', s]),
];

t.test('a vocabulary with a syntax error: run and detect exit 78 naming file and line', async (t) => {
  const bad = path.join(dir, 'syntax.txt');
  await writeFile(bad, 'bearing\ngearbox | severity=urgent\n');
  await copyFile(good.replace(/\.txt$/, '.lexicon.json'), path.join(dir, 'syntax.lexicon.json'));
  const run = await runCli(t, runArgs(`vocab.file=${bad}`));
  t.equal(run.code, EX_CONFIG, 'run: exit 78', { stderr: run.stderr.slice(-2000) });
  t.match(run.stderr, `${bad}:2`);
  const detect = await runCli(t, ['detect', '--vocab', bad, wav]);
  t.equal(detect.code, EX_CONFIG, 'detect: exit 78');
  t.match(detect.stderr, `${bad}:2`);
});

t.test('a damaged lexicon: run exits 78 naming the file', async (t) => {
  const vocab = path.join(dir, 'damaged.txt');
  await writeFile(vocab, 'gearbox\n');
  await writeFile(path.join(dir, 'damaged.lexicon.json'), '{"format": "gearhear-lexicon/1", "words": ');
  const run = await runCli(t, runArgs(`vocab.file=${vocab}`));
  t.equal(run.code, EX_CONFIG, { stderr: run.stderr.slice(-2000) });
  t.match(run.stderr, 'damaged.lexicon.json');
});

t.test('a corrupt model file: run and detect exit 78 naming the file', async (t) => {
  const model = path.join(dir, 'model');
  await import('node:fs/promises').then((fs) => fs.mkdir(model));
  for (const name of readdirSync(shippedModelDir)) {
    if (name === 'model.stream.int8.onnx') continue;
    await symlink(path.join(shippedModelDir, name), path.join(model, name));
  }
  const bytes = await readFile(path.join(shippedModelDir, 'model.stream.int8.onnx'));
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(path.join(model, 'model.stream.int8.onnx'), bytes);
  const run = await runCli(t, runArgs(`model.dir=${model}`, `vocab.file=${good}`));
  t.equal(run.code, EX_CONFIG, 'run: exit 78', { stderr: run.stderr.slice(-2000) });
  t.match(run.stderr, /model\.stream\.int8\.onnx is corrupt/);
  const detect = await runCli(t, ['detect', '--model', model, '--vocab', good, wav]);
  t.equal(detect.code, EX_CONFIG, 'detect: exit 78');
});

t.test('a one-phone term: vocab check, run and detect refuse it alike, with file and line', async (t) => {
  const vocab = path.join(dir, 'short.txt');
  await writeFile(vocab, '# pumps\ngearbox\no | pron="OW"\n');
  await copyFile(good.replace(/\.txt$/, '.lexicon.json'), path.join(dir, 'short.lexicon.json'));
  const where = `${vocab}:3: term "o"`;
  const check = await runCli(t, ['vocab', 'check', vocab]);
  t.equal(check.code, 1, 'vocab check fails', { stdout: check.stdout });
  t.match(check.stdout, where);
  t.notMatch(check.stdout, /^ok/m);
  const detect = await runCli(t, ['detect', '--vocab', vocab, wav]);
  t.equal(detect.code, EX_CONFIG, 'detect: exit 78');
  t.match(detect.stderr, where);
  const run = await runCli(t, runArgs(`vocab.file=${vocab}`));
  t.equal(run.code, EX_CONFIG, 'run: exit 78', { stderr: run.stderr.slice(-2000) });
  t.match(run.stderr, where);
});

t.test('a missing vocabulary, or a directory given as one: run, detect and vocab check exit 78 naming it', async (t) => {
  for (const [vocab, why] of [[path.join(dir, 'absent.txt'), 'it does not exist'], [dir, 'it is a directory']] as const) {
    const run = await runCli(t, runArgs(`vocab.file=${vocab}`));
    t.equal(run.code, EX_CONFIG, `run: exit 78 (${why})`, { stderr: run.stderr.slice(-2000) });
    t.match(run.stderr, `cannot read vocabulary ${vocab}: ${why}`);
    const detect = await runCli(t, ['detect', '--vocab', vocab, wav]);
    t.equal(detect.code, EX_CONFIG, `detect: exit 78 (${why})`);
    const check = await runCli(t, ['vocab', 'check', vocab]);
    t.equal(check.code, EX_CONFIG, `vocab check: exit 78 (${why})`);
    t.match(check.stderr, `cannot read vocabulary ${vocab}: ${why}`);
  }
});

t.test('a file: audio source that does not exist: run exits 78 naming audio.source', async (t) => {
  const absent = path.join(dir, 'absent.wav');
  const run = await runCli(t, [...runArgs(`vocab.file=${good}`), '--set', `audio.source=file:${absent}`]);
  t.equal(run.code, EX_CONFIG, { stderr: run.stderr.slice(-2000) });
  t.match(run.stderr, `config key audio.source from the command line is "file:${absent}" (it does not exist)`);
});

t.test('TLS files that are not PEM, or a key of another certificate: run and doctor exit 78 naming the key', async (t) => {
  const certs = await makeCertificates(await tempDir(t, 'gearhear-exit-tls-'));
  const junk = path.join(dir, 'junk.pem');
  await writeFile(junk, 'not a PEM file\n');
  const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['mqtt.key', { ...tls, key: junk }, /config key mqtt\.key .* is ".*junk\.pem" \(.*\): must be a PEM private key/],
    ['mqtt.cert', { ...tls, cert: junk }, /config key mqtt\.cert .* is ".*junk\.pem" \(.*\): must be a PEM client certificate/],
    ['mqtt.ca', { ...tls, ca: junk }, /config key mqtt\.ca .* is ".*junk\.pem" \(.*\): must be a PEM certificate of the CA/],
    ['mqtt.key', { ...tls, key: certs.serverKey }, /config key mqtt\.key .* is ".*server\.key" \(.*\): must be the private key of the certificate in mqtt\.cert/],
  ];
  for (const [key, files, message] of cases) {
    const set = Object.entries(files).map(([k, v]) => `mqtt.${k}=${v}`);
    const run = await runCli(t, runArgs(`vocab.file=${good}`, 'mqtt.url=mqtts://127.0.0.1:9', ...set));
    t.equal(run.code, EX_CONFIG, `run: ${key} -> exit 78`, { stderr: run.stderr.slice(-2000) });
    t.match(run.stderr, message);
    const doctor = await runCli(t, ['doctor', '--set', 'audio.source=stdin', '--set', 'mqtt.url=mqtts://127.0.0.1:9', ...set.flatMap((s) => ['--set', s])]);
    t.equal(doctor.code, EX_CONFIG, `doctor: ${key} -> exit 78`);
    t.match(doctor.stderr, message);
  }
});
