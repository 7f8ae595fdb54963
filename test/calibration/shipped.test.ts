/**
 * The factory calibration shipped beside the shipped vocabulary (vocab/mechanical-en.calibration.json)
 * must fit what ships: the default configuration's phone model and the vocabulary as it is now, every
 * term calibrated. A retrained model or an edited shipped vocabulary without a new calibration fails here.
 */
import path from 'node:path';
import t from 'tap';
import { calibrationFileFor, detectorIdentity, readCalibration, vocabularyIdentity } from '../../src/calibration/file.js';
import { calibrationFor } from '../../src/calibration/in-use.js';
import { loadConfig } from '../../src/config/index.js';
import { loadVocabulary } from '../../src/kws/vocabulary.js';
import { loadPhoneModel } from '../../src/model/phone-model.js';
import { phoneModelOptions } from '../../src/daemon/wiring.js';
import { repoRoot } from '../fixtures/audio-helpers.js';

t.test('the shipped calibration fits the default phone model and the shipped vocabulary', async (t) => {
  const config = loadConfig({ defaultConfigFile: '/nonexistent/config.json', env: {} });
  const file = calibrationFileFor(config);
  t.equal(file, path.join(repoRoot, 'vocab', 'mechanical-en.calibration.json'), 'the daemon looks for it beside the shipped vocabulary');
  const c = await readCalibration(file);
  t.ok(c, `${file} exists`);
  t.equal(c!.factory, true, 'marked as the factory calibration (skipped quietly by other detectors)');
  const vocab = await loadVocabulary(config.vocab.file);
  const { model } = await loadPhoneModel(phoneModelOptions(config));
  t.teardown(() => model.dispose());
  const inUse = await calibrationFor(file, { model: detectorIdentity(model), vocabulary: vocabularyIdentity(vocab), boost: config.kws.boost });
  t.equal(inUse.error, null, 'not refused');
  t.ok(inUse.status.used, `used with the defaults (${inUse.status.used ? '' : inUse.status.problem})`);
  if (inUse.status.used) t.same(inUse.status.uncalibrated, [], 'every shipped term has its threshold: run `gearhear calibrate --factory` again after changing the vocabulary or the model');
  t.equal(inUse.thresholds?.size, vocab.terms.length);
});
