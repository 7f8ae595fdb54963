/**
 * Where a calibration is looked for and written: calibration.file when set; else beside the
 * vocabulary, one file per phone model (`site.calibration.json` for kws, `site.both.calibration.json`
 * for both), and a phone model without a file of its own still finds one written before there were
 * several (`site.calibration.json`), which the identity checks refuse when it is for another model.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { calibrationFileFor, calibrationOutFor, calibrationPathFor, detectorIdentity } from '../../src/calibration/file.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-calibration-file-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const vocab = path.join(dir, 'site.txt');
const config = (phones: string, file = '') => ({ calibration: { file }, vocab: { file: vocab }, model: { phones } });

t.test('one file per phone model beside the vocabulary', async (t) => {
  t.equal(calibrationPathFor(vocab), path.join(dir, 'site.calibration.json'));
  t.equal(calibrationPathFor(vocab, 'kws'), path.join(dir, 'site.calibration.json'));
  t.equal(calibrationPathFor(vocab, 'both'), path.join(dir, 'site.both.calibration.json'));
  t.equal(calibrationOutFor(config('both'), vocab, false), path.join(dir, 'site.both.calibration.json'), 'calibrate writes the model\'s own file');
  t.equal(calibrationOutFor(config('kws'), vocab, false), path.join(dir, 'site.calibration.json'));
});

t.test('a model without its own file finds the one written before; its own file wins once it exists', async (t) => {
  t.equal(calibrationFileFor(config('both')), path.join(dir, 'site.calibration.json'), 'none of its own: the common one');
  await writeFile(path.join(dir, 'site.both.calibration.json'), '{}');
  t.equal(calibrationFileFor(config('both')), path.join(dir, 'site.both.calibration.json'), 'its own');
  t.equal(calibrationFileFor(config('kws')), path.join(dir, 'site.calibration.json'), 'kws keeps the common one');
});

t.test('calibration.file overrides both, except when calibrate is told another vocabulary', async (t) => {
  const file = path.join(dir, 'elsewhere.json');
  t.equal(calibrationFileFor(config('both', file)), file);
  t.equal(calibrationOutFor(config('both', file), vocab, false), file);
  t.equal(calibrationOutFor(config('both', file), vocab, true), path.join(dir, 'site.both.calibration.json'), '--vocab FILE writes beside that vocabulary');
});

t.test('the heads\' patience is part of the detectors\' identity, so a calibration made with another is stale', async (t) => {
  const model = { id: 'gearhear-kws', version: '0.2.0', sha256: 'a'.repeat(64) };
  const heads = { manifest: { id: 'gearhear-heads', version: '0.4.0' }, sha256: 'b'.repeat(64) };
  t.same(detectorIdentity(model, heads, null, 1), detectorIdentity(model, heads), 'patience 1 keeps the identity heads had before patience');
  const three = detectorIdentity(model, heads, null, 3);
  t.not(three.sha256, detectorIdentity(model, heads).sha256);
  t.not(three.sha256, detectorIdentity(model, heads, null, 4).sha256);
  t.equal(three.version, '0.2.0+0.4.0+patience3', 'and it says so');
  t.same(detectorIdentity(model, null, null, 3), detectorIdentity(model), 'the phone model alone has no patience');
});
