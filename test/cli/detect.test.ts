/**
 * `gearhear detect` end to end: the built CLI, the shipped model, speech by flite's SLT voice
 * (held out of training) and real machine noise from shared/data.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { EX_USAGE, jsonLines, runCli, sayWithSlt, sharedData, tempDir, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';
import { readManifest } from '../fixtures/audio-helpers.js';

const dir = await tempDir(t, 'gearhear-detect-');
const MACHINE_NOISE = [
  path.join(sharedData, 'noise/dcase2020t2-abnormal_listener/normal_id_00_00000007.wav'),
  path.join(sharedData, 'noise/tumult/machine05_furnace-pump.wav'),
  path.join(sharedData, 'noise/spear/factoryR1_16.wav'),
];
const FIELDS = ['file', 'term', 'category', 'severity', 'start', 'end', 'confidence'];

const termsIn = (lines: Array<Record<string, unknown>>, file: string): string[] =>
  [...new Set(lines.filter((d) => d.file === file).map((d) => String(d.term)))].sort();

t.test('--json: one object per detection with file, term, category, severity, times and confidence', async (t) => {
  const wav = await sayWithSlt('check the pump on the second floor before the shift ends', path.join(dir, 'plain.wav'));
  const vocab = await writeCatchAllVocab(dir);
  const r = await runCli(t, ['detect', '--json', '--vocab', vocab, wav]);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const lines = jsonLines(r.stdout);
  t.ok(lines.length > 0, 'the catch-all vocabulary matches the speech');
  const problems = lines.flatMap((d) => [
    ...FIELDS.filter((k) => !(k in d)).map((k) => `${String(d.term)}: no "${k}"`),
    ...(d.file === wav ? [] : [`${String(d.term)}: file is ${String(d.file)}`]),
    ...(d.severity === 'high' && d.category === 'component' ? [] : [`${String(d.term)}: category/severity not from the vocabulary`]),
    ...(typeof d.start === 'number' && typeof d.end === 'number' && d.start <= d.end ? [] : [`${String(d.term)}: ${d.start}-${d.end} is not a span`]),
    ...(typeof d.confidence === 'number' && d.confidence >= 0 && d.confidence <= 1 ? [] : [`${String(d.term)}: confidence ${d.confidence}`]),
  ]);
  t.same(problems, [], `all ${lines.length} lines have every field with sensible values`);
});

t.test('recognition: vocabulary terms in SLT speech are found', async (t) => {
  const wav = await sayWithSlt('there is a loud grinding noise from the gearbox. i think the bearing is worn. there is also an oil leak under the motor.', path.join(dir, 'faults.wav'));
  const r = await runCli(t, ['detect', '--json', wav]);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const lines = jsonLines(r.stdout);
  const terms = termsIn(lines, wav);
  // The shipped vocabulary comes with its factory calibration (vocab/mechanical-en.calibration.json),
  // which trades recall for 23 times fewer false alarms on real speech (vocab/README.md): at its
  // thresholds at least two of these four are heard; at the vocabulary's own, at least three.
  const said = ['gearbox', 'oil leak', 'bearing', 'grinding'];
  const heard = said.filter((s) => terms.some((term) => term.includes(s)));
  t.ok(heard.length >= 2, `at least 2 of ${said.join(', ')} heard (heard: ${terms.join(', ') || 'nothing'})`);
  t.ok(terms.includes('oil leak'), '"oil leak" heard');
  const uncalibrated = await runCli(t, ['detect', '--json', wav], { GEARHEAR_CALIBRATION_FILE: path.join(dir, 'no-such.calibration.json') });
  const raw = termsIn(jsonLines(uncalibrated.stdout), wav);
  const rawHeard = said.filter((s) => raw.some((term) => term.includes(s)));
  t.ok(rawHeard.length >= 3, `without the calibration at least 3 heard (heard: ${raw.join(', ') || 'nothing'})`);
  t.ok(terms.every((term) => raw.includes(term)), 'the calibration only takes detections away');
  const leak = lines.find((d) => d.term === 'oil leak');
  t.match(leak ?? {}, { category: 'leak', severity: 'high' }, 'category and severity come from the vocabulary');
});

t.test('open vocabulary: new terms are compiled and found, and not heard where they are not said', async (t) => {
  const vocab = path.join(dir, 'garage.txt');
  await writeFile(vocab, [
    // Operators tune new terms per line; model 0.2.0 gives "flux capacitor" here a confidence of
    // ~0.47, under the default 0.5. The checks below that nothing is heard where the terms are not
    // said hold at this threshold too.
    'turbocharger   | category=engine severity=high threshold=0.4',
    'flux capacitor | category=electrical severity=critical threshold=0.4',
    'carburetor     | category=engine severity=medium threshold=0.4',
  ].join('\n') + '\n');
  const said = await sayWithSlt('the turbocharger is whining again. somebody has to check the flux capacitor. and then clean the carburetor.', path.join(dir, 'garage.wav'));
  const notSaid = await sayWithSlt('the pump on the second floor runs quietly and the fan is fine today.', path.join(dir, 'quiet.wav'));
  // Real speech without the terms: the recorded sentences of ../shared/data (LibriVox, speechbrain's
  // speakers, a speech by JFK; not the ljspeech-* folders, which are synthesised).
  const realSentences = (await readManifest()).filter((r) => r.kind === 'sentence' && !r.path.includes('/ljspeech-')).map((r) => r.file);
  t.ok(realSentences.length >= 15, `${realSentences.length} real recorded sentences`);
  const r = await runCli(t, ['detect', '--json', '--vocab', vocab, said, notSaid, ...realSentences, ...MACHINE_NOISE], {}, 90_000);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  const lexicon = path.join(dir, 'garage.lexicon.json');
  t.ok(existsSync(lexicon), 'the lexicon was compiled beside the vocabulary');
  const words = Object.keys((JSON.parse(await readFile(lexicon, 'utf8')) as { words: Record<string, string[]> }).words);
  t.same(words.sort(), ['capacitor', 'carburetor', 'flux', 'turbocharger'], 'with every word of the new terms');
  const lines = jsonLines(r.stdout);
  const found = termsIn(lines, said);
  t.ok(found.every((term) => ['carburetor', 'flux capacitor', 'turbocharger'].includes(term)), `only terms that were said are reported (${found.join(', ')})`);
  // Model 0.2.0 finds some, not all, unseen terms (keyword recall ~0.31 on this voice, MODEL_CARD.md): raise this as it improves.
  t.ok(found.length >= 1, `new terms are found in the speech that says them (found: ${found.join(', ') || 'nothing'} of 3)`);
  t.same(termsIn(lines, notSaid), [], 'none in speech without them');
  t.same(realSentences.flatMap((f) => termsIn(lines, f)), [], 'none in real recorded speech without them');
  for (const noise of MACHINE_NOISE) t.same(termsIn(lines, noise), [], `none in machine noise ${path.basename(noise)}`);
});

t.test('unreadable inputs: each is named, the others are still processed, exit non-zero', async (t) => {
  const good = await sayWithSlt('the motor is running hot', path.join(dir, 'good.wav'));
  const bytes = await readFile(good);
  const notWav = path.join(dir, 'notes.wav');
  const truncated = path.join(dir, 'truncated.wav');
  const headerOnly = path.join(dir, 'header-only.wav');
  const missing = path.join(dir, 'missing.wav');
  await writeFile(notWav, 'these are meeting notes, not audio\n');
  await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await writeFile(headerOnly, bytes.subarray(0, 20));
  const vocab = await writeCatchAllVocab(dir);
  const r = await runCli(t, ['detect', '--json', '--vocab', vocab, notWav, truncated, good, missing, headerOnly]);
  t.not(r.code, 0, 'exit status is non-zero');
  for (const bad of [notWav, truncated, missing, headerOnly]) t.match(r.stderr, bad, `stderr names ${path.basename(bad)}`);
  t.match(r.stderr, /not a WAV file/, 'says what is wrong with the text file');
  t.match(r.stderr, /truncated/, 'says the cut file is truncated');
  t.match(r.stderr, /ENOENT|no such file/, 'says the missing file does not exist');
  const lines = jsonLines(r.stdout);
  t.ok(lines.length > 0 && lines.every((d) => d.file === good), 'the readable file between them was processed');
});

t.test('usage errors', async (t) => {
  const wav = path.join(dir, 'good.wav');
  const variant = await runCli(t, ['detect', '--variant', 'fp16', wav]);
  t.equal(variant.code, EX_USAGE, 'bad --variant: exit 64');
  t.match(variant.stderr, /--variant must be int8 or fp32, got "fp16"/);
  const none = await runCli(t, ['detect', '--json']);
  t.equal(none.code, EX_USAGE, 'no files: exit 64');
  t.match(none.stderr, /name at least one WAV file/);
  const threshold = await runCli(t, ['detect', '--threshold', 'high', wav]);
  t.equal(threshold.code, EX_USAGE, 'bad --threshold: exit 64');
  t.match(threshold.stderr, /--threshold must be a number in \[0, 1\]/);
});
