/**
 * What a person has to fix (a bad vocabulary, a damaged lexicon, a corrupt model) stops `run` and
 * `detect` with 78 (EX_CONFIG), which the systemd unit does not restart; `vocab check` applies the
 * same rule to terms as `run` and `detect`, naming file and line.
 */
import { copyFile, readFile, symlink, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
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
