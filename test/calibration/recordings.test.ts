/** Reading a site's recordings and labels: directories, Ogg through sox, labels files with their mistakes named. */
import { mkdir, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { decodeWithSox, listRecordings, matchLabels, readLabels } from '../../src/calibration/recordings.js';
import { repoRoot, tempDir } from '../fixtures/gearhear-cli.js';

const ogg = path.resolve(repoRoot, '../shared/train-speech/cathy/arctic_a0001_1592748600.ogg'); // 3.776 s in the manifest

t.test('an Ogg recording is decoded by sox to 16 kHz mono', async (t) => {
  const pcm = await decodeWithSox(ogg);
  t.ok(Math.abs(pcm.length / 16000 - 3.776) < 0.05, `${pcm.length / 16000} s`);
  t.ok(pcm.some((x) => Math.abs(x) > 0.05), 'not silence');
  await t.rejects(decodeWithSox(path.join(repoRoot, 'package.json')), /package\.json: sox could not decode it/);
});

t.test('directories are searched for audio files, in order; a missing path is named', async (t) => {
  const dir = await tempDir(t, 'gearhear-recordings-');
  await mkdir(path.join(dir, 'b'));
  await copyFile(ogg, path.join(dir, 'b', 'two.ogg'));
  await writeFile(path.join(dir, 'one.wav'), '');
  await writeFile(path.join(dir, 'notes.txt'), 'not audio');
  t.same(await listRecordings([dir]), [path.join(dir, 'b', 'two.ogg'), path.join(dir, 'one.wav')].sort());
  await t.rejects(listRecordings([path.join(dir, 'nope')]), /cannot read .*nope: no such file or directory/);
  await mkdir(path.join(dir, 'empty'));
  await t.rejects(listRecordings([path.join(dir, 'empty')]), /empty: no audio files/);
});

t.test('a labels file: spans with or without a term; every bad line named', async (t) => {
  const dir = await tempDir(t, 'gearhear-labels-');
  const file = path.join(dir, 'labels.txt');
  await writeFile(file, '# where terms are said\nsite/a.wav\t1.5\t3\toil  Leak\nsite/b.wav 0 2\n');
  const spans = await readLabels(file);
  t.same(spans, [{ file: 'site/a.wav', start: 1.5, end: 3, term: 'oil leak' }, { file: 'site/b.wav', start: 0, end: 2, term: null }]);
  const m = matchLabels(spans, [path.join(dir, 'site/a.wav')], file);
  t.same(m.spans.map((s) => s.file), [path.join(dir, 'site/a.wav')], 'relative to the labels file');
  t.same(m.unmatched, ['site/b.wav']);
  await writeFile(file, 'a.wav 3 1\nb.wav x 2\n');
  await t.rejects(readLabels(file), /labels\.txt:1: expected "FILE START END \[TERM\]" with START <= END in seconds, got "a\.wav 3 1"\n.*labels\.txt:2:/);
});
