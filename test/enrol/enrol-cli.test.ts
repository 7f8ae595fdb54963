/**
 * Enrolment end to end through the built CLI, with the real embedding, heads and negative bank and
 * real people's takes (Speech Commands test set, speakers whose hash starts with 0-b: the ones that
 * may be trained on; the benchmark measures on c-f). `enroll` refuses a silent or clipped take and a
 * term outside the vocabulary; keeps the others owner-only; `adapt` writes site heads for a genuine
 * enrolment that `detect` then names, and refuses a poisoned one (takes of "left" enrolled as "stop")
 * with its figures, leaving the file as it was.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { assertBuilt, EX_USAGE, repoRoot, runCli, tempDir } from '../fixtures/gearhear-cli.js';

const run = promisify(execFile);
const SC = path.resolve(repoRoot, '../shared/speech-commands-test');
assertBuilt();
const dir = await tempDir(t, 'gearhear-enrol-');
const state = path.join(dir, 'state');
const vocab = path.join(dir, 'site.txt');
await writeFile(vocab, 'stop | category=command severity=low\nleft | category=command severity=low\nbearing\n');
const set = ['--set', `vocab.file=${vocab}`, '--set', `state.dir=${state}`, '--set', 'model.detector=heads', '--set', 'log.level=warn'];

/** The first `speakers` trainable speakers (hash 0-b) with 3 takes of `word`: their 3 takes as WAVs in DIR/word. */
async function takesOf(word: string, speakers: number, skip = 0): Promise<string> {
  const rows = (await readFile(path.join(SC, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
  const by = new Map<string, string[]>();
  for (const [p, w, s] of rows) if (w === word && !/^[c-f]/.test(s!)) by.set(s!, [...(by.get(s!) ?? []), p!]);
  const chosen = [...by.entries()].filter(([, ps]) => ps.length >= 3).slice(skip, skip + speakers);
  const out = path.join(dir, `${word}-${skip}`);
  await mkdir(out, { recursive: true });
  for (const [s, ps] of chosen) for (const [i, p] of ps.slice(0, 3).entries()) await run('sox', [path.join(SC, p), '-b', '16', path.join(out, `${s}_${i}.wav`)]);
  return out;
}

t.test('enroll checks each take and keeps the good ones owner-only', async (t) => {
  const takes = await takesOf('stop', 2);
  const silent = path.join(dir, 'silent.wav'), clipped = path.join(dir, 'clipped.wav');
  await run('sox', ['-D', '-n', '-r', '16000', '-b', '16', '-c', '1', silent, 'trim', '0', '1']);
  await run('sox', [path.join(takes, (await import('node:fs')).readdirSync(takes)[0]!), clipped, 'gain', '30']);
  const r = await runCli(t, ['enroll', 'stop', '--from', takes, '--from', silent, '--from', clipped, '--who', 'ana', ...set]);
  t.equal(r.code, 65, 'a refused take: exit 65', { stderr: r.stderr });
  t.match(r.stderr, /refused .*silent\.wav: digital silence/, 'the silent take is named');
  t.match(r.stderr, /refused .*clipped\.wav: clipped/, 'the clipped take is named');
  t.match(r.stdout, /6 take\(s\) kept, 2 refused/);
  const list = await runCli(t, ['enroll', 'list', '--json', ...set]);
  const records = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { term: string; who: string; wavPath: string; speechSec: number });
  t.equal(records.length, 6);
  t.ok(records.every((x) => x.term === 'stop' && x.who === 'ana' && x.speechSec > 0.1 && x.speechSec < 1.5), 'trimmed takes of stop by ana');
  t.equal((await stat(records[0]!.wavPath)).mode & 0o777, 0o600, 'a take is owner-only');
  t.equal((await stat(path.dirname(records[0]!.wavPath))).mode & 0o777, 0o700, 'so is its folder');
  const wrong = await runCli(t, ['enroll', 'stopp', '--from', takes, ...set]);
  t.equal(wrong.code, EX_USAGE);
  t.match(wrong.stderr, /"stopp" is not a term of the vocabulary .*\(the closest: stop,/, 'named, with the closest terms');
  const out = path.join(dir, 'export');
  const ex = await runCli(t, ['enroll', 'export', '--out', out, ...set]);
  t.match(ex.stdout, /exported 6 take/);
});

t.test('adapt: a genuine enrolment is written and used by detect; a poisoned one is refused', async (t) => {
  const file = path.join(state, 'site-heads.json');
  const a = await runCli(t, ['adapt', ...set], {}, 180_000);
  t.equal(a.code, 0, 'adapted', { stdout: a.stdout, stderr: a.stderr });
  t.match(a.stdout, /stop: adapted \(6 takes by ana/);
  t.match(a.stdout, /false alarms per hour on [\d.]+ h held out: factory [\d.]+, site 0\b/, 'no false alarm on held-out negatives');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'site heads are owner-only');
  const before = await readFile(file, 'utf8');
  const probe = path.join(dir, 'probe.wav');
  await run('sox', ['-n', '-r', '16000', '-b', '16', '-c', '1', probe, 'trim', '0', '1']);
  const d = await runCli(t, ['detect', probe, ...set]);
  t.match(d.stderr, /site heads .*site-heads\.json \(gearhear adapt\) for stop/, 'detect says it uses them');

  // Poisoned: another word's takes enrolled as "left".
  const lefts = await takesOf('stop', 2, 2);
  const e = await runCli(t, ['enroll', 'left', '--from', lefts, '--who', 'mallory', ...set]);
  t.equal(e.code, 0, 'the takes themselves are fine', { stderr: e.stderr });
  const p = await runCli(t, ['adapt', '--terms', 'left', ...set], {}, 180_000);
  t.equal(p.code, 65, 'refused: exit 65', { stdout: p.stdout, stderr: p.stderr });
  t.match(p.stdout, /left: REFUSED/);
  t.match(p.stdout, /refused: the takes do not sound like "left" to the factory heads: in the median take [\d.]+ other terms score higher/, 'with the figure');
  t.equal(await readFile(file, 'utf8'), before, 'the previous site heads stay');

  await writeFile(file, '{"format": "gearhear-site-heads/1", "terms": [');
  const damaged = await runCli(t, ['detect', probe, ...set]);
  t.equal(damaged.code, 78, 'a damaged site heads file: exit 78');
  t.match(damaged.stderr, /site-heads\.json: not JSON .*delete it to use the factory heads, or run gearhear adapt/, 'naming it and what to do');

  await rm(file);
  const f = await runCli(t, ['detect', probe, ...set]);
  t.notMatch(f.stderr, /site heads/, 'without the file: the factory heads');
});
