/**
 * `gearhear detect --phones embedding`: the phone head on the speech embedding feeding the keyword
 * search, end to end through the built CLI, on terms said inside sentences by flite's SLT voice and
 * on real machine noise. Its recall and false alarms on real speech are measured by
 * `npm run bench:wakeword -- --detectors embphones,defaults` (models/gearhear-embphones/MODEL_CARD.md).
 */
import path from 'node:path';
import t from 'tap';
import { jsonLines, runCli, sayWithSlt, sharedData, tempDir } from '../fixtures/gearhear-cli.js';

const dir = await tempDir(t, 'gearhear-detect-embphones-');

t.test('terms said in sentences are found by their pronunciation; nothing in machine noise', async (t) => {
  const leak = await sayWithSlt('there is an oil leak under the motor', path.join(dir, 'leak.wav'));
  const bearing = await sayWithSlt('the bearing is running hot', path.join(dir, 'bearing.wav'));
  const noise = path.join(sharedData, 'noise/tumult/machine05_furnace-pump.wav');
  const r = await runCli(t, ['detect', '--json', '--phones', 'embedding', leak, bearing, noise], {}, 120_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const lines = jsonLines(r.stdout);
  const termsIn = (f: string): string[] => [...new Set(lines.filter((d) => d.file === f).map((d) => String(d.term)))];
  t.ok(termsIn(leak).includes('oil leak'), `"oil leak" found (${termsIn(leak).join(', ')})`);
  t.ok(termsIn(bearing).includes('bearing'), `"bearing" found (${termsIn(bearing).join(', ')})`);
  t.same(termsIn(noise), [], 'nothing in machine noise');
  const d = lines.find((x) => x.term === 'oil leak');
  t.match(d ?? {}, { category: 'leak', severity: 'high' }, 'vocabulary attributes');
});

t.test('--phones with an unknown value is a configuration error (exit 78) naming the key', async (t) => {
  const r = await runCli(t, ['detect', '--phones', 'whisper', path.join(dir, 'leak.wav')]);
  t.equal(r.code, 78);
  t.match(r.stderr, /model\.phones/);
});
