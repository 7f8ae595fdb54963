/** `gearhear detect` builds its parts from the same configuration as `run`. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { jsonLines, runCli, sayWithSlt, tempDir, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';

const dir = await tempDir(t, 'gearhear-detect-config-');
const wav = await sayWithSlt('check the pump on the second floor before the shift ends', path.join(dir, 'plain.wav'));
const vocab = await writeCatchAllVocab(dir, ['gearbox'], 'only-gearbox');

t.test('the vocabulary named in a config file is the one detect listens for', async (t) => {
  const config = path.join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ vocab: { file: vocab } }));
  const r = await runCli(t, ['detect', '--json', '--config', config, wav]);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const terms = [...new Set(jsonLines(r.stdout).map((d) => d.term))];
  t.same(terms, ['gearbox'], 'only the config\'s one catch-all term is reported');
});

t.test('GEARHEAR_* environment variables apply to detect as to run', async (t) => {
  const r = await runCli(t, ['detect', '--json', wav], { GEARHEAR_VOCAB: vocab });
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  t.same([...new Set(jsonLines(r.stdout).map((d) => d.term))], ['gearbox']);
});

t.test('a bad configuration value stops detect with exit 78, naming the key', async (t) => {
  const r = await runCli(t, ['detect', '--json', wav], { GEARHEAR_VAD_THRESHOLD: '7' });
  t.equal(r.code, 78);
  t.match(r.stderr, /vad\.threshold/);
});
