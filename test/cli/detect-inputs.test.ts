/**
 * How `gearhear detect` is given its audio: many arguments (the SIGSEGV of issue 11, item 8),
 * a list of files (--files-from, `-` for stdin) and audio on stdin (`detect -`). The built CLI,
 * the shipped model and the demo recording.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { EX_USAGE, cleanEnv, cliMain, jsonLines, repoRoot, runCli, spawnCli, tempDir, type CliResult } from '../fixtures/gearhear-cli.js';

const dir = await tempDir(t, 'gearhear-detect-inputs-');
const DEMO = path.join(repoRoot, 'demo/machine-room.wav');

/** `gearhear ...args` with `input` written to its stdin. */
async function runWithStdin(args: string[], input: Buffer | string, env: Record<string, string> = {}): Promise<CliResult> {
  const proc = spawnCli(t, args, env, 'pipe');
  proc.child.stdin!.end(input);
  return proc.exit(120_000);
}

const termsAt = (stdout: string): string[] => jsonLines(stdout).map((d) => `${String(d.term)}@${String(d.start)}`);

const demo = await runCli(t, ['detect', '--json', DEMO], {}, 120_000);
const demoTerms = termsAt(demo.stdout);

t.test('the demo recording is heard (the reference the other cases compare with)', async (t) => {
  t.equal(demo.code, 0, 'exit 0', { stderr: demo.stderr });
  t.ok(demoTerms.length >= 3, `terms heard: ${demoTerms.join(', ')}`);
});

t.test("the README's `detect --json` example is a line of this run (the segment id's stream prefix is random)", async (t) => {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const example = /```json\n(\{"file":"demo\/machine-room\.wav".*\})\n```/.exec(readme)?.[1];
  if (!example) return t.fail('no detect --json example for demo/machine-room.wav in README.md');
  const r = await runCli(t, ['detect', '--json', 'demo/machine-room.wav'], {}, 120_000); // as the README runs it
  const withoutStream = (l: string): string => l.replace(/"segmentId":"[0-9a-f]+-/, '"segmentId":"-');
  t.ok(r.stdout.split('\n').map(withoutStream).includes(withoutStream(example)), example, { stdout: r.stdout });
});

t.test('a command line far past 29 KB does not crash onnxruntime, and nothing is written under $HOME', async (t) => {
  const home = path.join(dir, 'home');
  // 900 absolute paths of ~70 characters: ~63 KB of arguments, over twice what killed it before.
  const missing = Array.from({ length: 900 }, (_, i) => path.join(dir, 'a/fairly/long/directory/of/field/recordings', `pump-${i}.wav`));
  const args = ['detect', '--json', DEMO, ...missing];
  t.ok(args.join(' ').length > 60_000, `${args.join(' ').length} bytes of arguments`);
  // An inherited ORT_DISABLE_TELEMETRY=0 must not bring the crash back.
  const r = await runCli(t, args, { HOME: home, ORT_DISABLE_TELEMETRY: '0' }, 120_000);
  t.equal(r.signal, null, 'not killed by a signal');
  t.equal(r.code, 1, 'exit 1: some files could not be read');
  t.same(termsAt(r.stdout), demoTerms, 'the readable file is still heard');
  t.equal(r.stderr.split('\n').filter((l) => /cannot read WAV file .*ENOENT/.test(l)).length, 900, 'each missing file is named');
  t.notOk(existsSync(path.join(home, '.cache')), 'onnxruntime\'s telemetry store (~/.cache/Microsoft/...) was not created');
});

t.test('--files-from reads one path per line, or NUL-separated, from a file or stdin', async (t) => {
  const missing = path.join(dir, 'missing.wav');
  const lines = path.join(dir, 'list.txt');
  await writeFile(lines, `${DEMO}\n\n${missing}\n`);
  const fromFile = await runCli(t, ['detect', '--json', '--files-from', lines], {}, 120_000);
  t.equal(fromFile.code, 1, 'exit 1 (one listed file is missing)', { stderr: fromFile.stderr });
  t.same(termsAt(fromFile.stdout), demoTerms, 'the listed recording is heard');
  t.match(fromFile.stderr, new RegExp(`cannot read WAV file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the missing one is named');

  const nul = path.join(dir, 'list.nul');
  await writeFile(nul, `${DEMO}\0`);
  const fromNul = await runCli(t, ['detect', '--json', '--files-from', nul], {}, 120_000);
  t.equal(fromNul.code, 0, 'NUL-separated (find -print0): exit 0', { stderr: fromNul.stderr });
  t.same(termsAt(fromNul.stdout), demoTerms, 'NUL-separated: heard');

  const fromStdin = await runWithStdin(['detect', '--json', '--files-from', '-'], `${DEMO}\n`);
  t.equal(fromStdin.code, 0, '--files-from -: exit 0', { stderr: fromStdin.stderr });
  t.same(termsAt(fromStdin.stdout), demoTerms, '--files-from -: heard');
});

t.test('--files-from mistakes: an unreadable list, an empty one, stdin asked for twice', async (t) => {
  const gone = await runCli(t, ['detect', '--files-from', path.join(dir, 'no-list.txt')]);
  t.equal(gone.code, 66, 'an unreadable list: exit 66 (EX_NOINPUT)');
  t.match(gone.stderr, /cannot read the file list .*no-list\.txt.*ENOENT/, 'names the list');
  const empty = path.join(dir, 'empty.txt');
  await writeFile(empty, '\n\n');
  const none = await runCli(t, ['detect', '--files-from', empty]);
  t.equal(none.code, EX_USAGE, 'an empty list: exit 64');
  t.match(none.stderr, /empty\.txt lists no files/, 'says the list is empty');
  const twice = await runWithStdin(['detect', '--files-from', '-', '-'], '');
  t.equal(twice.code, EX_USAGE, 'stdin as list and audio: exit 64');
  t.match(twice.stderr, /stdin cannot be both the file list \(--files-from -\) and audio \(-\)/, 'says why');
});

t.test('detect - reads a WAV stream or raw 16 kHz s16le PCM from stdin', async (t) => {
  const wav = await readFile(DEMO);
  const piped = await runWithStdin(['detect', '--json', '-'], wav);
  t.equal(piped.code, 0, 'a WAV on stdin: exit 0', { stderr: piped.stderr });
  t.same(termsAt(piped.stdout), demoTerms, 'a WAV on stdin: the same terms at the same times as the file');
  t.ok(jsonLines(piped.stdout).every((d) => d.file === '-'), 'reported as file "-"');

  // What `sox in.wav -t wav - | gearhear detect -` sends: a header whose sizes sox could not fill in.
  const sox = spawn('sox', [DEMO, '-t', 'wav', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const gh = spawn(process.execPath, [cliMain, 'detect', '--json', '-'], { cwd: repoRoot, env: cleanEnv(), stdio: [sox.stdout, 'pipe', 'pipe'] });
  let out = '';
  gh.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => gh.on('close', resolve));
  t.equal(code, 0, 'sox | gearhear detect -: exit 0');
  t.same(termsAt(out), demoTerms, 'sox | gearhear detect -: the same terms');

  const raw = await runWithStdin(['detect', '--json', '-'], wav.subarray(44));
  t.equal(raw.code, 0, 'raw PCM on stdin: exit 0', { stderr: raw.stderr });
  t.same(termsAt(raw.stdout), demoTerms, 'raw PCM on stdin: the same terms');
});

t.test('--files-from with names that hold control characters: each is printed quoted and escaped, never raw', async (t) => {
  const names = [
    path.join(dir, 'red\u001b[31m.wav'), // an ANSI escape sequence
    path.join(dir, 'csi\u009b2J.wav'), // C1 CSI: clears some terminals
    path.join(dir, 'evil\u202evaw.exe'), // a right-to-left override
    path.join(dir, 'two\nlines.wav'), // a newline (NUL-separated list)
  ];
  const list = path.join(dir, 'binary-names.list');
  await writeFile(list, Buffer.concat([Buffer.from(names.join('\0')), Buffer.from([0, 0xff, 0xfe, 0x2e, 0x77, 0x61, 0x76, 0])])); // and bytes that are not UTF-8
  const r = await runCli(t, ['detect', '--files-from', list], {}, 120_000);
  t.equal(r.code, 1, 'the files cannot be read: exit 1');
  t.notMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\ufffd]/, 'no control, bidi or replacement character reaches stderr');
  const shown = ['"' + dir + '/red\\u001b[31m.wav"', '"' + dir + '/csi\\u009b2J.wav"', '"' + dir + '/evil\\u202evaw.exe"', '"' + dir + '/two\\nlines.wav"', '"\\ufffd\\ufffd.wav"'];
  for (const s of shown) t.ok(r.stderr.includes(s), `names ${s}`, { stderr: r.stderr });
  t.equal(r.stderr.split('\n').filter((l) => l.startsWith('gearhear detect: cannot read')).length, 5, 'one line per file');
  const plain = await runCli(t, ['detect', path.join(dir, 'plain-absent.wav')], {}, 120_000);
  t.match(plain.stderr, `cannot read WAV file ${path.join(dir, 'plain-absent.wav')}:`, 'a printable name is printed as it is');
});
