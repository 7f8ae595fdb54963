/**
 * The factory calibrations shipped beside the shipped vocabulary must fit what ships: for the default
 * phone model (vocab/mechanical-en.calibration.json) and for model.phones = both
 * (vocab/mechanical-en.both.calibration.json), the phone model as the configuration loads it and the
 * vocabulary as it is now, every term calibrated. A retrained model or an edited shipped vocabulary
 * without new calibrations fails here.
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

for (const [phones, name] of [[undefined, 'mechanical-en.calibration.json'], ['both', 'mechanical-en.both.calibration.json']] as const) {
  t.test(`the shipped calibration fits model.phones = ${phones ?? 'its default'} and the shipped vocabulary`, async (t) => {
    const config = loadConfig({ defaultConfigFile: '/nonexistent/config.json', env: phones ? { GEARHEAR_MODEL_PHONES: phones } : {} });
    const file = calibrationFileFor(config);
    t.equal(file, path.join(repoRoot, 'vocab', name), 'the daemon looks for it beside the shipped vocabulary');
    const c = await readCalibration(file);
    t.ok(c, `${file} exists`);
    t.equal(c!.factory, true, 'marked as a factory calibration (skipped quietly by other detectors)');
    const vocab = await loadVocabulary(config.vocab.file);
    const { model } = await loadPhoneModel(phoneModelOptions(config));
    t.teardown(() => model.dispose());
    const inUse = await calibrationFor(file, { model: detectorIdentity(model), vocabulary: vocabularyIdentity(vocab), boost: config.kws.boost });
    t.equal(inUse.error, null, 'not refused');
    t.ok(inUse.status.used, `used with these settings (${inUse.status.used ? '' : inUse.status.problem})`);
    if (inUse.status.used) t.same(inUse.status.uncalibrated, [], 'every shipped term has its threshold: run `gearhear calibrate --factory` again after changing the vocabulary or the model');
    t.equal(inUse.thresholds?.size, vocab.terms.length);
  });
}
