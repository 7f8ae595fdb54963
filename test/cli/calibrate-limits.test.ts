/**
 * What a site calibration must not do, end to end with the built CLI on real audio (real read
 * sentences from ../shared/data, SLT speech synthesised here): calibrate from too little audio for
 * its target (refused, saying how much is needed), leave a longer term's speech to be reported as a
 * shorter term inside it, or write a file and say the daemon loads it when it does not; and `detect`
 * says which calibration its detections were made with.
 */
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { Calibration } from '../../src/calibration/file.js';
import { jsonLines, repoRoot, runCli, sayWithSlt, sharedData, tempDir } from '../fixtures/gearhear-cli.js';

// Several CLI runs, each loading the model, on a shared 2-core machine.
t.setTimeout(600_000);
const dir = await tempDir(t, 'gearhear-calibrate-limits-');
const vocab = path.join(dir, 'site.txt');
await writeFile(vocab, '# site vocabulary\ngearbox | category=component severity=info threshold=0.4\ngear | category=component severity=info\noil leak | category=leak severity=high\n');
await copyFile(path.join(repoRoot, 'vocab/mechanical-en.lexicon.json'), path.join(dir, 'site.lexicon.json'));
const beside = path.join(dir, 'site.calibration.json');
// 27 s of real read speech (five LibriVox sentences) in which no term is said.
const site = path.join(sharedData, 'speech/sentences/librivox-pocketsphinx');
// The phone model in FP32: its scores do not move when the INT8 files are quantised again.
const env = (): Record<string, string> => ({ GEARHEAR_STATE_DIR: dir, GEARHEAR_LOG_LEVEL: 'warn', GEARHEAR_MODEL_DETECTOR: 'phones', GEARHEAR_MODEL_VARIANT: 'fp32' });

t.test('calibrate refuses too little audio for its target, says how much it needs, and writes only with --force', async (t) => {
  const out = path.join(dir, 'short.calibration.json');
  const r = await runCli(t, ['calibrate', '--vocab', vocab, '--out', out, site], env(), 180_000);
  t.equal(r.code, 64, 'refused: exit 64', { stderr: r.stderr.slice(-2000) });
  t.match(r.stderr, /refused: \d+\.\d s of audio cannot show 0\.1 false alarms per hour per term/);
  t.match(r.stderr, /3 of 3 terms would be set to it/, 'says every term would be pinned at the highest threshold');
  t.match(r.stderr, /Needed for 0\.1 per hour: at least \d+\.\d h of audio .* and 30\.0 h \(3\/R\) to confirm/, 'states the audio the target needs');
  t.match(r.stderr, /--target-fa-per-hour [\d.]+ or more with this audio/, 'and the target this audio can calibrate for');
  t.notOk(existsSync(out), 'nothing written');

  const forced = await runCli(t, ['calibrate', '--vocab', vocab, '--out', out, '--force', '--json', site], env(), 180_000);
  t.equal(forced.code, 0, '--force: written', { stderr: forced.stderr.slice(-2000) });
  t.match(forced.stderr, /WARNING: .* cannot show 0\.1 false alarms per hour/, 'with a warning on stderr');
  const report = JSON.parse(forced.stdout) as { notes: string[] };
  t.match(report.notes.join(' '), /at least \d+\.\d h of audio/, 'and in the report');
  t.ok(existsSync(out));
});

t.test('calibrate --out says where the file is and how to make the daemon use it', async (t) => {
  const out = path.join(dir, 'elsewhere.calibration.json');
  const r = await runCli(t, ['calibrate', '--vocab', vocab, '--out', out, '--target-fa-per-hour', '500', site], env(), 180_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  t.notMatch(r.stdout, /loads it beside the vocabulary/);
  t.match(r.stdout, new RegExp(`wrote ${out}: the daemon does not load it from there \\(with this vocabulary they look at ${beside}\\); ` +
    `to use it, set calibration\\.file = ${out} \\(GEARHEAR_CALIBRATION_FILE=${out}`));
  const here = await runCli(t, ['calibrate', '--vocab', vocab, '--target-fa-per-hour', '500', site], env(), 180_000);
  t.equal(here.code, 0, 'exit 0', { stderr: here.stderr.slice(-2000) });
  t.match(here.stdout, new RegExp(`wrote ${beside}: the daemon and \`gearhear detect\` load it from there when vocab\\.file is ${vocab}`));
});

t.test('a longer term raised by a calibration is not reported as the shorter term inside it; detect names the calibration', async (t) => {
  const said = await sayWithSlt('check the gearbox', path.join(dir, 'gearbox.wav'));
  const gear = await sayWithSlt('the gear is worn out', path.join(dir, 'gear.wav'));
  const detect = async (wav: string): Promise<{ terms: string[]; stderr: string }> => {
    const r = await runCli(t, ['detect', '--json', '--vocab', vocab, wav], env(), 120_000);
    t.equal(r.code, 0, 'detect exits 0', { stderr: r.stderr.slice(-2000) });
    return { terms: jsonLines(r.stdout).map((d) => String(d.term)), stderr: r.stderr };
  };
  const cal = JSON.parse(await readFile(beside, 'utf8')) as Calibration;
  const none = path.join(dir, 'none.json');
  {
    const r = await runCli(t, ['detect', '--json', '--vocab', vocab, '--set', `calibration.file=${none}`, said], env(), 120_000);
    t.same(jsonLines(r.stdout).map((d) => d.term), ['gearbox'], 'without a calibration "gearbox" is found');
    t.match(r.stderr, `calibration: none (no file at ${none}): the vocabulary's thresholds apply`, 'detect says it used none');
  }
  // The site calibration raised "gearbox" out of reach and left "gear" low.
  cal.terms.gearbox = { ...cal.terms.gearbox!, threshold: 1, siteThreshold: 1 };
  cal.terms.gear = { ...cal.terms.gear!, threshold: 0.4, siteThreshold: 0.4 };
  await writeFile(beside, JSON.stringify(cal));
  const raised = await detect(said);
  t.same(raised.terms, [], '"gearbox" raised to 1.0 is not reported, and not as "gear" either');
  t.match(raised.stderr, new RegExp(`calibration: ${beside} \\(site, from recordings, 3 term\\(s\\), target 500 false alarms/h per term\\)`), 'detect names the file it used');
  t.same((await detect(gear)).terms, ['gear'], '"gear" said on its own is still found');
  // The shipped vocabulary's factory calibration was made for the INT8 model: with FP32 it is not used.
  const factory = await runCli(t, ['detect', '--json', path.join(dir, 'gear.wav')], env(), 120_000);
  t.match(factory.stderr, /calibration: none \(the factory calibration .*vocab\/mechanical-en\.calibration\.json is not used\)/, 'the shipped vocabulary: its factory calibration, named');
  t.ok(jsonLines(factory.stdout).every((d) => typeof d.term === 'string'), 'stdout stays JSON lines');
});
