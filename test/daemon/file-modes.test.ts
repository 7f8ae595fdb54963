/**
 * File modes whatever the umask (issue 21, item 17): `gearhear run` under umask 000, with evidence
 * clips on and the embedded broker, on the demo recording. Clips (workplace speech), verdicts and
 * the broker's account are 0600 and the evidence folder 0700; files an older gearhear left readable
 * by others are tightened at start, with a warning. The built CLI as a child of `sh -c 'umask 000'`.
 */
import { spawn } from 'node:child_process';
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { CliProcess, cleanEnv, cliMain, repoRoot, tempDir } from '../fixtures/gearhear-cli.js';
import { daemonEnv } from '../fixtures/daemon-helpers.js';

const stateDir = await tempDir(t, 'gearhear-modes-');
const evidence = path.join(stateDir, 'evidence');
const brokerFile = path.join(stateDir, 'embedded-broker.json');
const env = {
  ...daemonEnv({ url: 'embedded', stateDir, source: `file:${path.join(repoRoot, 'demo/machine-room.wav')}` }),
  GEARHEAR_MQTT_EMBEDDED_PORT: '0', GEARHEAR_EVIDENCE_ENABLED: 'true',
};

/** `gearhear run` to its end under umask 000. */
async function runUnderUmask000(t: Test): Promise<CliProcess> {
  const child = spawn('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, cliMain, 'run'], { cwd: repoRoot, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new CliProcess(child);
  t.teardown(() => { if (proc.running) child.kill('SIGKILL'); });
  const r = await proc.exit(120_000);
  t.equal(r.code, 0, 'the daemon heard the recording and exited 0', { stderr: r.stderr.slice(-2000) });
  return proc;
}

const modeOf = async (file: string): Promise<string> => `0${((await stat(file)).mode & 0o777).toString(8)}`;

async function modes(): Promise<Record<string, string>> {
  const out: Record<string, string> = { 'evidence/': await modeOf(evidence), 'embedded-broker.json': await modeOf(brokerFile) };
  for (const name of await readdir(evidence)) out[name] = await modeOf(path.join(evidence, name));
  return out;
}

t.test('under umask 000 what the daemon creates is owner-only', async (t) => {
  await runUnderUmask000(t);
  const found = await modes();
  t.ok(Object.keys(found).filter((n) => n.endsWith('.wav')).length >= 3, `clips written: ${Object.keys(found).join(', ')}`);
  for (const [name, mode] of Object.entries(found)) t.equal(mode, name.endsWith('/') ? '0700' : '0600', `${name} is ${mode}`);
});

t.test('files and the folder left readable by others are tightened at start, with a warning', async (t) => {
  await writeFile(path.join(evidence, 'verdicts.json'), '{}\n', { mode: 0o644 });
  for (const name of await readdir(evidence)) await chmod(path.join(evidence, name), 0o644);
  await chmod(evidence, 0o755);
  await chmod(brokerFile, 0o644);
  const daemon = await runUnderUmask000(t);
  const found = await modes();
  for (const [name, mode] of Object.entries(found)) t.equal(mode, name.endsWith('/') ? '0700' : '0600', `${name} is ${mode}`);
  const warned = daemon.logs().filter((l) => l.level === 'warn').map((l) => l.msg);
  t.ok(warned.some((m) => /^evidence: .*owner-only/.test(m)), 'the evidence store warns it was tightened', { warned });
  t.ok(warned.some((m) => /^embedded broker: .*owner-only/.test(m)), 'the broker file warns it was tightened', { warned });
  t.ok(daemon.logs().some((l) => l.dirModeWas === '0755' && Number(l.filesTightened) >= 3), 'naming the folder\'s old mode and how many files');
});
