/**
 * `gearhear detect --phones both`: both phone models side by side and the paired keyword search, end
 * to end through the built CLI, with the factory calibration made for them
 * (vocab/mechanical-en.both.calibration.json) and without one, on terms said inside sentences by
 * flite's SLT voice and on real machine noise. False alarms and recall on real speech are measured by
 * `npm run bench:wakeword -- --detectors defaults,both` (README, "Both phone models").
 */
import path from 'node:path';
import t, { type Test } from 'tap';
import { jsonLines, runCli, sayWithSlt, sharedData, tempDir } from '../fixtures/gearhear-cli.js';

const dir = await tempDir(t, 'gearhear-detect-both-');
const leak = await sayWithSlt('there is an oil leak under the motor', path.join(dir, 'leak.wav'));
const bearing = await sayWithSlt('the bearing is running hot', path.join(dir, 'bearing.wav'));
const noise = path.join(sharedData, 'noise/tumult/machine05_furnace-pump.wav');

async function detect(t: Test, extra: string[]): Promise<(f: string) => Array<Record<string, unknown>>> {
  const r = await runCli(t, ['detect', '--json', '--phones', 'both', ...extra, leak, bearing, noise], {}, 180_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const lines = jsonLines(r.stdout);
  return (f) => lines.filter((d) => d.file === f);
}

t.test('with its factory calibration: a term both models hear is found, nothing in machine noise', async (t) => {
  const found = await detect(t, []);
  const d = found(leak).find((x) => x.term === 'oil leak');
  t.ok(d, `"oil leak" found (${found(leak).map((x) => x.term).join(', ')})`);
  t.match(d ?? {}, { category: 'leak', severity: 'high' }, 'vocabulary attributes');
  t.not(d?.threshold, 0.5, 'its threshold is the calibrated one, not the vocabulary\'s');
  t.same(found(noise), [], 'nothing in machine noise');
});

t.test('without a calibration the vocabulary thresholds apply to the combined scores', async (t) => {
  const found = await detect(t, ['--set', `calibration.file=${path.join(dir, 'none.calibration.json')}`]);
  const terms = (f: string): string[] => [...new Set(found(f).map((x) => String(x.term)))];
  t.ok(terms(leak).includes('oil leak'), `"oil leak" found (${terms(leak).join(', ')})`);
  t.ok(terms(bearing).includes('bearing'), `"bearing" found (${terms(bearing).join(', ')})`);
  t.same(terms(noise), [], 'nothing in machine noise');
});
