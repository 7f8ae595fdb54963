/**
 * Site calibration end to end: `gearhear calibrate` on real audio (SLT speech synthesised at test
 * time, a real Ogg recording from ../shared/train-speech) writes per-term thresholds beside the
 * vocabulary; the daemon (`gearhear run`, real mosquitto) loads them, applies them, reports them
 * in `info` and keeps a bounded score history that `calibrate --from-history` reads; a vocabulary
 * edit keeps the unchanged terms' thresholds; a calibration for another boost is refused by both;
 * `--from-feedback` raises a term.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { Calibration } from '../../src/calibration/file.js';
import { HISTORY_BYTES_PER_TERM, HISTORY_FILE, type ScoreHistoryFile } from '../../src/calibration/history.js';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { joinWithSilence, jsonLines, repoRoot, runCli, sayWithSlt, spawnCli, tempDir } from '../fixtures/gearhear-cli.js';
import { daemonEnv, loadTopicSchemas, MqttRecorder } from '../fixtures/daemon-helpers.js';

// About a dozen CLI and daemon runs, each loading the model: more than tap's default on a shared 2-core machine.
t.setTimeout(900_000);
const dir = await tempDir(t, 'gearhear-calibrate-');
const broker = await startMosquitto();
t.teardown(() => broker.close());

const vocab = path.join(dir, 'site.txt');
const vocabText = '# site vocabulary\noil leak | category=leak severity=high\nmotor\nbearing\ngearbox\npump\n';
await writeFile(vocab, vocabText);
await copyFile(path.join(repoRoot, 'vocab/mechanical-en.lexicon.json'), path.join(dir, 'site.lexicon.json'));
const calFile = path.join(dir, 'site.calibration.json');
const schemaProblem = await loadTopicSchemas();
const sha = async (f: string): Promise<string> => createHash('sha256').update(await readFile(f)).digest('hex');

// Site audio without the terms: two SLT sentences and one real recording (Ogg, decoded by sox).
const quiet = await joinWithSilence([
  await sayWithSlt('we will meet in the office after lunch and talk about the schedule', path.join(dir, 'q1.wav')),
  await sayWithSlt('please close the door when you leave the room tonight', path.join(dir, 'q2.wav')),
], path.join(dir, 'quiet.wav'));
const ogg = path.resolve(repoRoot, '../shared/train-speech/cathy/arctic_a0001_1592748600.ogg');
// Audio in which a term is said, with a labels file naming where.
const said = await joinWithSilence([await sayWithSlt('there is an oil leak under the motor', path.join(dir, 's1.wav'))], path.join(dir, 'said.wav'), 1);
// A calibration is tied to the detectors that made it: these runs calibrate and listen with the
// phone model (model.detector = phones); the term-heads test below calibrates with the heads.
const phoneDaemonEnv = (o: Parameters<typeof daemonEnv>[0]): Record<string, string> => ({ ...daemonEnv(o), GEARHEAR_MODEL_DETECTOR: 'phones' });
const env = (stateDir: string): Record<string, string> => ({ GEARHEAR_STATE_DIR: stateDir, GEARHEAR_LOG_LEVEL: 'warn', GEARHEAR_MODEL_DETECTOR: 'phones' });

interface JsonReport { file: string; audioHours: number; terms: Array<{ term: string; threshold: number; faPerHour: number; atFloor: number; reached: boolean; vocabularyFaPerHour: number }> }

t.test('calibrate writes per-term thresholds beside the vocabulary and leaves the vocabulary alone', async (t) => {
  t.ok((await stat(ogg)).size > 0, `${ogg} is there (../shared/train-speech)`);
  const before = await sha(vocab);
  const r = await runCli(t, ['calibrate', '--vocab', vocab, '--target-fa-per-hour', '500', quiet, ogg], env(await tempDir(t)), 120_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  for (const term of ['oil leak', 'motor', 'bearing', 'gearbox', 'pump']) t.match(r.stdout, new RegExp(`^${term} +\\d\\.\\d{3} +\\d+\\.\\d{2} `, 'm'), `"${term}": threshold and FA/h printed`);
  t.match(r.stdout, new RegExp(`wrote ${calFile.replace(/[.]/g, '\\.')}`));
  t.equal(await sha(vocab), before, 'the vocabulary file is unchanged');
  const cal = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  t.equal(cal.format, 'gearhear-calibration/1');
  t.equal(cal.source, 'recordings');
  t.same(Object.keys(cal.terms).sort(), ['bearing', 'gearbox', 'motor', 'oil leak', 'pump']);
  t.ok(Object.values(cal.terms).every((x) => x.threshold >= 0.3 && x.threshold <= 1 && x.siteThreshold === x.threshold), 'thresholds in [floor, 1]');
  t.match(cal.model, { id: 'gearhear-kws', sha256: /^[0-9a-f]{64}$/ });
  t.ok(cal.audioHours > 10 / 3600 && cal.audioHours < 60 / 3600, `${cal.audioHours * 3600} s of audio`);
});

t.test('detect applies the calibration beside the vocabulary, as the daemon does, and says why it refuses one', async (t) => {
  const site = await tempDir(t, 'gearhear-calibrate-detect-');
  const v = path.join(site, 'site.txt');
  await writeFile(v, vocabText);
  await copyFile(path.join(repoRoot, 'vocab/mechanical-en.lexicon.json'), path.join(site, 'site.lexicon.json'));
  const terms = async (): Promise<string[]> => {
    const r = await runCli(t, ['detect', '--json', '--vocab', v, said], env(await tempDir(t)), 120_000);
    t.equal(r.code, 0, 'detect exits 0', { stderr: r.stderr.slice(-2000) });
    return [...new Set(jsonLines(r.stdout).map((d) => String(d.term)))];
  };
  t.ok((await terms()).includes('oil leak'), 'without a calibration "oil leak" is found');
  const cal = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  cal.terms['oil leak'] = { ...cal.terms['oil leak']!, threshold: 1, siteThreshold: 1 };
  await writeFile(path.join(site, 'site.calibration.json'), JSON.stringify(cal));
  t.notOk((await terms()).includes('oil leak'), 'with the site calibration raising it to 1, it is not');
  await writeFile(path.join(site, 'site.calibration.json'), JSON.stringify({ ...cal, model: { ...cal.model, sha256: '0'.repeat(64) } }));
  const r = await runCli(t, ['detect', '--json', '--vocab', v, said], env(await tempDir(t)), 120_000);
  t.ok(jsonLines(r.stdout).some((d) => d.term === 'oil leak'), 'a calibration for another model is not used');
  t.match(r.stderr, /site\.calibration\.json.*the vocabulary's thresholds apply/s, 'and detect says so');
});

t.test('occurrences inside labelled spans are not false alarms', async (t) => {
  const out = path.join(dir, 'labelled.calibration.json');
  // A few seconds of audio are far too little for the default target: --force, this is about counting.
  const plain = await runCli(t, ['calibrate', '--vocab', vocab, '--out', out, '--json', '--force', said], env(await tempDir(t)), 120_000);
  t.equal(plain.code, 0, 'exit 0', { stderr: plain.stderr.slice(-2000) });
  const atFloor = (r: { stdout: string }, term: string): number => (JSON.parse(r.stdout) as JsonReport).terms.find((x) => x.term === term)!.atFloor;
  t.ok(atFloor(plain, 'oil leak') >= 1, 'without labels the spoken "oil leak" counts');
  const labels = path.join(dir, 'labels.txt');
  await writeFile(labels, `# where terms are said\n${said}\t0.8\t3.5\toil leak\n`);
  const labelled = await runCli(t, ['calibrate', '--vocab', vocab, '--out', out, '--json', '--force', '--labels', labels, said], env(await tempDir(t)), 120_000);
  t.equal(labelled.code, 0, 'exit 0', { stderr: labelled.stderr.slice(-2000) });
  t.equal(atFloor(labelled, 'oil leak'), 0, 'with the span labelled it does not');
});

t.test('the daemon loads the calibration, applies it, reports it in info and keeps a bounded score history', async (t) => {
  const cal = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  cal.terms['oil leak']!.threshold = 0.321; // a value the vocabulary could not have produced
  await writeFile(calFile, JSON.stringify(cal));
  const stateDir = await tempDir(t);
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = spawnCli(t, ['run'], phoneDaemonEnv({ url: broker.url, stateDir, source: `file:${said}`, vocab }));
  const r = await daemon.exit(120_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  const info = JSON.parse(sub.on('info').at(-1)!.payload) as { calibration?: Record<string, unknown> };
  t.match(info.calibration, { used: true, file: calFile, source: 'recordings', terms: 5 }, 'info names the calibration in use');
  t.equal(schemaProblem(sub.on('info').at(-1)!), null, 'info validates against info.schema.json');
  const leak = sub.detections().filter((d) => d.term === 'oil leak');
  t.ok(leak.length > 0, '"oil leak" detected');
  t.ok(leak.every((d) => d.threshold === 0.321), 'at the calibrated threshold');
  const history = JSON.parse(await readFile(path.join(stateDir, HISTORY_FILE), 'utf8')) as ScoreHistoryFile;
  t.same(Object.keys(history.terms).sort(), ['bearing', 'gearbox', 'motor', 'oil leak', 'pump'], 'the history has the vocabulary\'s terms');
  t.ok(Math.abs(history.terms.pump!.audioSec - 4.6) < 1.5, `audio heard: ${history.terms.pump!.audioSec} s`);
  t.ok(Object.keys(history.terms['oil leak']!.bins).length > 0, 'the spoken term\'s scores are in it');
  t.ok((await stat(path.join(stateDir, HISTORY_FILE))).size <= 5 * HISTORY_BYTES_PER_TERM, 'within the stated bound');

  // calibrate --from-history reads what the daemon heard.
  const out = path.join(dir, 'history.calibration.json');
  const h = await runCli(t, ['calibrate', '--from-history', '--vocab', vocab, '--out', out, '--target-fa-per-hour', '500'], env(stateDir), 60_000);
  t.equal(h.code, 0, 'calibrate --from-history: exit 0', { stderr: h.stderr.slice(-2000) });
  t.match(h.stdout, new RegExp(`wrote ${out}: the daemon does not load it from there \\(with this vocabulary they look at ${calFile}\\); to use it, set calibration\\.file = ${out}`),
    'says where the file is and how to make the daemon use it');
  const fromHistory = JSON.parse(await readFile(out, 'utf8')) as Calibration;
  t.equal(fromHistory.source, 'history');
  t.ok(Math.abs(fromHistory.audioHours * 3600 - history.terms.pump!.audioSec) < 0.5, 'over the audio the daemon heard');
  const none = await runCli(t, ['calibrate', '--from-history', '--vocab', vocab, '--out', out], env(await tempDir(t)), 60_000);
  t.equal(none.code, 78, 'no history: exit 78');
  t.match(none.stderr, /no score history at .*score-history\.json/);
});

t.test('a vocabulary edit keeps the calibration of the unchanged terms; another boost is refused by the daemon and by calibrate', async (t) => {
  await writeFile(vocab, vocabText + 'cavitation\n'); // a new term: a new vocabulary version
  t.teardown(() => writeFile(vocab, vocabText));
  const cal = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  {
    const stateDir = await tempDir(t);
    const sub = await MqttRecorder.connect(broker.url);
    const daemon = spawnCli(t, ['run'], phoneDaemonEnv({ url: broker.url, stateDir, source: `file:${said}`, vocab }));
    const r = await daemon.exit(120_000);
    await sub.close();
    t.equal(r.code, 0, 'the daemon runs', { stderr: r.stderr.slice(-2000) });
    const info = JSON.parse(sub.on('info').at(-1)!.payload) as { calibration?: { used: boolean; uncalibrated: string[]; terms: number } };
    t.equal(info.calibration?.used, true, 'info: the calibration is still used');
    t.same(info.calibration?.uncalibrated, ['cavitation'], 'info names the added term as uncalibrated');
    t.equal(info.calibration?.terms, 5, 'the five unchanged terms keep their thresholds');
    t.equal(schemaProblem(sub.on('info').at(-1)!), null, 'info validates against info.schema.json');
    t.ok(daemon.logs().some((l) => l.level === 'warn' && /no threshold for 1 term/.test(l.msg)), 'a warning names what is uncalibrated');
    const oil = sub.detections().filter((d) => d.term === 'oil leak');
    t.ok(oil.every((d) => d.threshold === cal.terms['oil leak']!.threshold), `"oil leak" detections use its calibrated threshold (${cal.terms['oil leak']!.threshold})`);
  }
  {
    const stateDir = await tempDir(t);
    const sub = await MqttRecorder.connect(broker.url);
    t.teardown(() => sub.close());
    const daemon = spawnCli(t, ['run'], { ...phoneDaemonEnv({ url: broker.url, stateDir, source: `file:${said}`, vocab }), GEARHEAR_KWS_BOOST: '0.5' });
    const r = await daemon.exit(120_000);
    t.equal(r.code, 0, 'the daemon still runs, on the vocabulary\'s thresholds', { stderr: r.stderr.slice(-2000) });
    const info = JSON.parse(sub.on('info').at(-1)!.payload) as { calibration?: { used: boolean; problem: string } };
    t.equal(info.calibration?.used, false, 'another kws.boost: not used');
    t.equal(schemaProblem(sub.on('info').at(-1)!), null, 'info validates against info.schema.json');
    t.match(info.calibration?.problem, /refused: it was made with kws.boost 0, this is 0.5.*gearhear calibrate/);
    t.ok(daemon.logs().some((l) => l.msg.startsWith('calibration refused')), 'logged');
    t.ok(sub.on('error').some((m) => /calibration/.test(m.payload) && /refused/.test(m.payload)), 'published on error');
  }
  const feedback = path.join(dir, 'feedback.jsonl');
  await writeFile(feedback, '{"term":"motor","verdict":"false","score":0.8}\n');
  const fb = await runCli(t, ['calibrate', '--from-feedback', '--feedback', feedback, '--vocab', vocab, '--set', 'kws.boost=0.5'], env(await tempDir(t)), 60_000);
  t.equal(fb.code, 78, 'calibrate --from-feedback on a site calibration for another boost: exit 78');
  t.match(fb.stderr, /calibration .*site\.calibration\.json refused: it was made with kws.boost 0, this is 0.5/);
});

let siteCalibration: Calibration;
t.test('calibrate --from-feedback raises a term with a false verdict from its clip, never below the site calibration', async (t) => {
  const site = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  siteCalibration = site;
  const feedback = path.join(dir, 'feedback.jsonl');
  // The clip is the audio in which "oil leak" was said: marked false, its threshold must go above its score there.
  await writeFile(feedback, `${JSON.stringify({ term: 'oil leak', verdict: 'false', clip: said, score: 0.4 })}\n${JSON.stringify({ term: 'pump', verdict: 'false', score: 0.1 })}\n`);
  const r = await runCli(t, ['calibrate', '--from-feedback', '--feedback', feedback, '--vocab', vocab, '--json'], env(await tempDir(t)), 60_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  const after = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  const leak = after.terms['oil leak']!;
  t.ok(leak.threshold > 0.5, `raised above the clip's score (${leak.threshold})`);
  t.equal(leak.siteThreshold, site.terms['oil leak']!.siteThreshold, 'the site threshold is kept');
  t.equal(after.terms.pump!.threshold, site.terms.pump!.siteThreshold, 'a false verdict scoring below the site threshold lowers nothing');
  t.equal(after.source, 'feedback');
  // The daemon with the raised threshold no longer reports it on that audio.
  const sub = await MqttRecorder.connect(broker.url);
  t.teardown(() => sub.close());
  const daemon = spawnCli(t, ['run'], phoneDaemonEnv({ url: broker.url, stateDir: await tempDir(t), source: `file:${said}`, vocab }));
  t.equal((await daemon.exit(120_000)).code, 0);
  t.same(sub.detections().filter((d) => d.term === 'oil leak'), [], 'the false alarm is not made again');
  const usage = await runCli(t, ['calibrate', '--from-feedback', '--vocab', vocab], env(await tempDir(t)));
  t.equal(usage.code, 64, 'no verdicts named and none stored: usage error');
  t.match(usage.stderr, /none are stored in .*evidence/);
});

t.test('calibrate --from-feedback reads the verdicts the daemon stored with its evidence clips', async (t) => {
  await writeFile(calFile, JSON.stringify(siteCalibration));
  const stateDir = await tempDir(t);
  const store = path.join(stateDir, 'evidence');
  await mkdir(store, { recursive: true });
  // One clip as the daemon's evidence writer leaves it (src/evidence/store.ts, format 1), marked false.
  const clipId = '20261201T120000000Z-0123abcd';
  await copyFile(said, path.join(store, `${clipId}.wav`));
  await writeFile(path.join(store, `${clipId}.json`), JSON.stringify({
    format: 1, clipId, detectionId: 'd-1', deviceId: 'test', timestamp: '2026-12-01T12:00:00.000Z', term: 'oil leak',
    category: 'leak', severity: 'high', confidence: 0.6, threshold: 0.5, start: 1, end: 2, clipStart: 0, clipEnd: 3,
    sampleRate: 16000, wavBytes: (await stat(said)).size, truncated: false, model: { id: 'x', version: 'y' },
    vocabularyVersion: 'v', verdict: { verdict: 'false', at: '2026-12-01T12:01:00.000Z' },
  }));
  const r = await runCli(t, ['calibrate', '--from-feedback', '--vocab', vocab, '--json'], env(stateDir), 60_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  const after = JSON.parse(await readFile(calFile, 'utf8')) as Calibration;
  t.ok(after.terms['oil leak']!.threshold > siteCalibration.terms['oil leak']!.threshold, 'the term with a stored false verdict is raised');
  t.equal(after.source, 'feedback');
});

t.test('with term heads, calibrate scores the head terms with the heads, and the calibration is tied to them', async (t) => {
  const out = path.join(dir, 'heads.calibration.json');
  const heads = { ...env(await tempDir(t)), GEARHEAR_MODEL_DETECTOR: 'heads' };
  const r = await runCli(t, ['calibrate', '--vocab', vocab, '--out', out, '--json', '--target-fa-per-hour', '500', quiet, ogg], heads, 120_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr.slice(-2000) });
  const cal = JSON.parse(await readFile(out, 'utf8')) as Calibration;
  t.match(cal.model, { id: 'gearhear-kws+gearhear-heads', sha256: /^[0-9a-f]{64}$/ }, 'identity: both detectors');
  t.match(cal.model.version, /^[^+]+\+[^+]+\+patience3$/, 'both versions, and the heads\' patience (model.headsPatience, default 3)');
  t.same(Object.keys(cal.terms).sort(), ['bearing', 'gearbox', 'motor', 'oil leak', 'pump']);
  const report = JSON.parse(r.stdout) as JsonReport;
  t.ok(report.terms.every((x) => x.vocabularyFaPerHour >= 0), 'every term measured at the vocabulary threshold too');
});

t.test('calibrate --help prints every option; a wrong command line is a usage error', async (t) => {
  const help = await runCli(t, ['calibrate', '--help']);
  t.equal(help.code, 0);
  for (const o of ['--target-fa-per-hour', '--vocab', '--labels', '--out', '--model', '--variant', '--from-history', '--from-feedback', '--feedback', '--config', '--set', '--json', '--force']) t.match(help.stdout, o);
  const unknown = await runCli(t, ['calibrate', '--bogus', 'x.wav']);
  t.equal(unknown.code, 64);
  t.match(unknown.stderr, /Unknown option '--bogus'[\s\S]*Usage: gearhear calibrate/);
  const two = await runCli(t, ['calibrate', '--from-history', 'x.wav']);
  t.equal(two.code, 64);
  t.match(two.stderr, /exactly one/);
  const target = await runCli(t, ['calibrate', '--target-fa-per-hour', 'lots', 'x.wav']);
  t.equal(target.code, 64);
  t.match(target.stderr, /--target-fa-per-hour must be a number > 0, got "lots"/);
});
