/**
 * Guided enrolment from the configured audio source (the microphone's path, fed here by a recorded
 * stream: audio.source=file: and stdin), through the built CLI with the real voice-activity gate: it
 * prompts "say 'stop' — i of N", each speech segment is a take, a clipped one is refused and asked
 * again, and it stops when the stream ends. Real people's takes (Speech Commands, a trainable speaker).
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { assertBuilt, cleanEnv, cliMain, repoRoot, runCli, tempDir } from '../fixtures/gearhear-cli.js';

const run = promisify(execFile);
const SC = path.resolve(repoRoot, '../shared/speech-commands-test');
assertBuilt();
const dir = await tempDir(t, 'gearhear-enrol-source-');
const vocab = path.join(dir, 'site.txt');
await (await import('node:fs/promises')).writeFile(vocab, 'stop | category=command severity=low\n');

// Three takes of "stop" by one trainable speaker (hash 0-b), and the first one again, clipped.
const rows = (await readFile(path.join(SC, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
const by = new Map<string, string[]>();
for (const [p, w, s] of rows) if (w === 'stop' && !/^[c-f]/.test(s!)) by.set(s!, [...(by.get(s!) ?? []), p!]);
const [, files] = [...by.entries()].find(([, ps]) => ps.length >= 3)!;
const takes = await Promise.all(files.slice(0, 3).map(async (p, i) => {
  const out = path.join(dir, `take${i}.wav`);
  await run('sox', [path.join(SC, p), '-b', '16', out]);
  return out;
}));
const clipped = path.join(dir, 'clipped.wav');
await run('sox', [takes[0]!, clipped, 'gain', '30']);
const gap = path.join(dir, 'gap.wav');
await run('sox', ['-D', '-n', '-r', '16000', '-b', '16', '-c', '1', gap, 'trim', '0', '1.5']);
const stream = path.join(dir, 'session.wav');
await run('sox', [gap, takes[0]!, gap, clipped, gap, takes[1]!, gap, takes[2]!, gap, stream]);

t.test('from a recorded stream (audio.source=file:): prompts, refuses the clipped take, keeps three', async (t) => {
  const state = path.join(dir, 'state-file');
  const r = await runCli(t, ['enroll', 'stop', '--takes', '3', '--who', 'kim', '--set', `vocab.file=${vocab}`, '--set', `state.dir=${state}`,
    '--set', `audio.source=file:${stream}`, '--set', 'audio.pace=fast']);
  t.equal(r.code, 0, 'three takes kept', { stderr: r.stderr });
  t.match(r.stderr, /say 'stop' — 1 of 3\n/);
  t.match(r.stderr, /say 'stop' — 3 of 3\n/);
  t.match(r.stderr, /refused take 2: clipped/, 'the clipped take is refused, then asked for again');
  t.match(r.stdout, /3 take\(s\) kept, 1 refused/);
  const list = await runCli(t, ['enroll', 'list', '--json', '--set', `state.dir=${state}`, '--set', `vocab.file=${vocab}`]);
  const kept = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: string; who: string });
  t.same(kept.map((k) => [k.source, k.who]), [['mic', 'kim'], ['mic', 'kim'], ['mic', 'kim']]);
});

t.test('from stdin: the stream ends before the takes asked for: exit 65, what was kept stays', async (t) => {
  const state = path.join(dir, 'state-stdin');
  const child = spawn(process.execPath, [cliMain, 'enroll', 'stop', '--takes', '5', '--set', `vocab.file=${vocab}`, '--set', `state.dir=${state}`, '--set', 'audio.source=stdin'],
    { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.end(await readFile(stream));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 65, 'fewer takes than asked', { stderr });
  t.match(stderr, /stdin ended; stopping/);
  t.match(stdout, /3 take\(s\) kept, 1 refused; "stop" has 3 take\(s\); run gearhear adapt/);
});
