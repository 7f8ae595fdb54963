import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { envNamesIn, knownEnvNames, makeFixtureCheckout, makeTempDir, readRepoFile, repoRoot, runCommand } from './helpers.js';

const UNIT = 'deploy/systemd/gearhear.service';
const INSTALL = path.join(repoRoot, 'deploy/systemd/install.sh');
const unitText = await readRepoFile(UNIT);

/** Section -> directive -> values, in file order (comments and blank lines skipped). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) sections.set(section[1]!, (current = new Map()));
    else {
      const eq = line.indexOf('=');
      if (!current || eq < 0) throw new Error(`${UNIT}: cannot read line ${line}`);
      const key = line.slice(0, eq);
      current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
    }
  }
  return sections;
}

/**
 * systemd-analyze verify on a copy of the unit whose ExecStart runs this node (verify checks the
 * binary exists). verify exits 0 on unknown directives and unparsable values, only logging them,
 * so any line it prints about the unit counts as a problem.
 */
async function verifyUnit(dir: string, text: string): Promise<{ code: number; problems: string[] }> {
  const file = path.join(dir, 'gearhear.service');
  await writeFile(file, text.replaceAll('/usr/bin/node ', `${process.execPath} `));
  const result = await runCommand('systemd-analyze', ['verify', '--man=no', file]);
  const problems = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.includes(file) || l.startsWith('gearhear.service'));
  return { code: result.code, problems };
}

const hasSystemd = (await runCommand('sh', ['-c', 'command -v systemd-analyze'])).code === 0;

t.test('systemd-analyze verify accepts the unit, and rejects copies with a typo', { skip: !hasSystemd && 'systemd-analyze is not installed (apt-get install systemd)' }, async (t) => {
  const dir = await makeTempDir(t);
  const clean = await verifyUnit(dir, unitText);
  t.equal(clean.code, 0, 'verify exits 0');
  t.same(clean.problems, [], 'and reports nothing about the unit');
  const broken: Array<[string, string]> = [
    ['a misspelt directive', unitText.replace('WatchdogSec=30', 'WatchdogSecs=30')],
    ['an invalid value', unitText.replace('Type=notify', 'Type=notifyy')],
    ['a missing binary', unitText.replace('ExecStart=/usr/bin/node ', 'ExecStart=/nonexistent/node ')],
  ];
  for (const [what, text] of broken) {
    t.not(text, unitText, `the copy with ${what} differs from the unit`);
    const result = await verifyUnit(dir, text);
    t.ok(result.code !== 0 || result.problems.length > 0, `${what} is caught: ${result.problems.join(' | ')}`);
  }
});

t.test('the sandbox scores OK in systemd-analyze security, and would not without it', { skip: !hasSystemd && 'systemd-analyze is not installed' }, async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'gearhear.service');
  await writeFile(file, unitText);
  const hardened = await runCommand('systemd-analyze', ['security', '--offline=true', '--threshold=16', file]);
  t.equal(hardened.code, 0, `exposure at most 1.6: ${hardened.stdout.split('\n').find((l) => l.includes('Overall')) ?? hardened.stderr}`);
  for (const check of ['SystemCallFilter=~@privileged', 'SystemCallFilter=~@resources']) {
    t.match(hardened.stdout, new RegExp(`✓ ${check}`), `${check} passes`);
  }
  const sandboxStart = unitText.indexOf('DynamicUser=yes');
  await writeFile(file, unitText.slice(0, sandboxStart) + unitText.slice(unitText.indexOf('MemoryHigh=')));
  const bare = await runCommand('systemd-analyze', ['security', '--offline=true', '--threshold=30', file]);
  t.not(bare.code, 0, 'without the sandbox block the same check fails');
});

t.test('the unit has the required directives, and no MemoryDenyWriteExecute', async (t) => {
  const unit = parseUnit(unitText);
  const service = unit.get('Service')!;
  const expected: Record<string, string> = {
    Type: 'notify', NotifyAccess: 'all', WatchdogSec: '30', Restart: 'always', RestartSec: '5', RestartPreventExitStatus: '78',
    DynamicUser: 'yes', StateDirectory: 'gearhear', SupplementaryGroups: 'audio', ProtectSystem: 'strict', ProtectHome: 'yes',
    NoNewPrivileges: 'yes', PrivateTmp: 'yes', MemoryHigh: '270M', MemoryMax: '300M', TimeoutStopSec: '15', KillSignal: 'SIGTERM',
    ExecStart: '/usr/bin/node /opt/gearhear/dist/src/cli/main.js run --config /etc/gearhear/config.json',
  };
  for (const [key, value] of Object.entries(expected)) t.same(service.get(key), [value], `${key}=${value}`);
  const environment = service.get('Environment') ?? [];
  t.ok(environment.includes('GEARHEAR_STATE_DIR=/var/lib/gearhear'), 'state dir is the StateDirectory');
  const heap = environment.map((e) => /^NODE_OPTIONS=.*--max-old-space-size=(\d+)/.exec(e)).find(Boolean);
  t.ok(heap && Number(heap[1]) <= 200, `V8 heap capped (${heap?.[1]} MB) below MemoryHigh`);
  t.notOk([...unit.values()].some((s) => s.has('MemoryDenyWriteExecute')), 'no MemoryDenyWriteExecute (V8 JIT)');
  t.same(service.get('SystemCallFilter'), ['@system-service', '~@privileged @resources'], 'system calls: @system-service less @privileged and @resources');
  t.same(service.get('IPAddressDeny'), ['any'], 'network: deny by default');
  t.match(service.get('IPAddressAllow')?.[0] ?? '', /^localhost .*192\.168\.0\.0\/16/, 'loopback and the private ranges allowed');
  t.notOk(service.has('ProcSubset'), 'no ProcSubset=pid: onnxruntime needs /proc/cpuinfo');
  t.match(unitText, /# No ProcSubset=pid: onnxruntime reads \/proc\/cpuinfo/, 'and a comment says why');
  t.match(unitText, /^#LoadCredential=mqtt-client-key:\/etc\/gearhear\/client\.key$/m, 'the client key credential, ready to uncomment');
  t.match(await readRepoFile('docs/deploy-systemd.md'), /LoadCredential=mqtt-client-key:\/etc\/gearhear\/client\.key[\s\S]*\/run\/credentials\/gearhear\.service\/mqtt-client-key/, 'documented: a DynamicUser service gets its key file through LoadCredential=');
  t.match(unitText, /# No MemoryDenyWriteExecute=yes: V8's JIT/, 'and a comment says why');
  t.match(unitText, /cgroup_enable=memory[^\n]*\n?[^\n]*cmdline\.txt/, 'the memory cgroup note for Raspberry Pi OS');
  t.same(unit.get('Install')?.get('WantedBy'), ['multi-user.target']);
  const known = knownEnvNames();
  for (const name of envNamesIn(unitText)) t.ok(known.has(name), `${name} is a known variable`);
});

t.test('config.example.json is a valid configuration with only the documented keys', async (t) => {
  const example = JSON.parse(await readRepoFile('deploy/systemd/config.example.json')) as Record<string, Record<string, unknown>>;
  const flat = (obj: Record<string, unknown>, prefix = ''): string[] =>
    Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? flat(v as Record<string, unknown>, `${prefix}${k}.`) : [prefix + k]));
  const allowed = ['device.id', 'audio.source', 'mqtt.url', 'mqtt.username', 'mqtt.passwordFile', 'mqtt.baseTopic', 'mqtt.homeAssistant.enabled', 'model.variant', 'vocab.file', 'state.dir', 'log.level'];
  t.same(flat(example).sort(), [...allowed].sort(), 'exactly the agreed keys');
  t.equal(example.mqtt!.passwordFile, '/run/credentials/gearhear.service/mqtt-password', 'password comes from the unit\'s LoadCredential');
  t.match(unitText, /^LoadCredential=mqtt-password:\/etc\/gearhear\/mqtt-password$/m);
  // Loaded with the paths that exist only on a device pointed at real files here.
  const dir = await makeTempDir(t);
  const password = path.join(dir, 'mqtt-password');
  await writeFile(password, 'secret\n');
  const local = structuredClone(example);
  local.mqtt!.passwordFile = password;
  local.vocab!.file = path.join(repoRoot, 'vocab/mechanical-en.txt');
  local.state!.dir = dir;
  const configFile = path.join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(local));
  const config = loadConfig({ configFile, env: {} });
  t.equal(config.mqtt.url, 'mqtt://mqtt.local:1883');
  t.equal(config.audio.source, 'mic:plughw:CARD=Device');
  t.equal(config.device.id, 'press-line-1');
  t.equal(config.mqtt.password, 'secret', 'the password file is read');
});

t.test('install.sh --dry-run --prefix lays out a system under the prefix and touches nothing else', async (t) => {
  t.equal((await runCommand('bash', ['-n', INSTALL])).code, 0, 'bash -n passes');
  const dir = await makeTempDir(t);
  const checkout = await makeFixtureCheckout(dir);
  const root = path.join(dir, 'root');
  const first = await runCommand('bash', [INSTALL, '--dry-run', '--prefix', root, '--from', checkout]);
  t.equal(first.code, 0, `install.sh succeeds: ${first.stderr}`);
  for (const file of ['opt/gearhear/package.json', 'opt/gearhear/package-lock.json', 'opt/gearhear/dist/src/cli/main.js', 'opt/gearhear/models/gearhear-kws/model.json', 'opt/gearhear/vocab/mechanical-en.txt', 'opt/gearhear/schemas/detection.schema.json', 'opt/gearhear/docs/deploy-systemd.md']) {
    t.ok(existsSync(path.join(root, file)), `${file} installed`);
  }
  t.notOk(existsSync(path.join(root, 'opt/gearhear/models/training')), 'training code is not installed');
  t.notOk(existsSync(path.join(root, 'opt/gearhear/node_modules')), 'npm ci was not run in a dry run');
  t.match(first.stdout, /would run: bash -c cd .* npm ci --omit=dev --ignore-scripts/, 'npm ci is printed instead');
  t.match(first.stdout, new RegExp(`would run: systemctl --root=${root} enable gearhear.service`), 'systemctl is printed, against the prefix');
  t.notMatch(first.stdout, /would run: systemctl (daemon-reload|restart)/, 'the running systemd is left alone');
  t.equal(await readFile(path.join(root, 'etc/systemd/system/gearhear.service'), 'utf8'), unitText, 'the unit is installed as is');
  t.equal(await readFile(path.join(root, 'etc/gearhear/config.json'), 'utf8'), await readRepoFile('deploy/systemd/config.example.json'), 'config from the example');
  t.equal((await stat(path.join(root, 'etc/gearhear/mqtt-password'))).mode & 0o777, 0o600, 'an empty password file, 0600');
  const wrapper = await readFile(path.join(root, 'usr/local/bin/gearhear'), 'utf8');
  t.match(wrapper, /^exec \/usr\/bin\/node \/opt\/gearhear\/dist\/src\/cli\/main\.js "\$@"$/m, 'a gearhear command runs the installed CLI');
  t.equal((await stat(path.join(root, 'usr/local/bin/gearhear'))).mode & 0o111, 0o111, 'and is executable');

  await writeFile(path.join(root, 'etc/gearhear/config.json'), '{"mqtt": {"url": "mqtt://mine:1883"}}\n');
  const again = await runCommand('bash', [INSTALL, '--dry-run', '--prefix', root, '--from', checkout]);
  t.equal(again.code, 0, 'a second run succeeds');
  t.equal(await readFile(path.join(root, 'etc/gearhear/config.json'), 'utf8'), '{"mqtt": {"url": "mqtt://mine:1883"}}\n', 'and keeps the edited config');
  t.match(again.stdout, /kept .*config\.json/);
  t.notOk(existsSync(path.join(root, 'opt/gearhear.old')) || existsSync(path.join(root, 'opt/gearhear.new')), 'no leftovers of the swap');
});

t.test('install.sh --dry-run without a prefix only prints; bad input is refused clearly', async (t) => {
  const dir = await makeTempDir(t);
  const checkout = await makeFixtureCheckout(dir);
  const etcBefore = existsSync('/etc/gearhear');
  const dry = await runCommand('bash', [INSTALL, '--dry-run', '--from', checkout]);
  t.equal(dry.code, 0, `dry run succeeds: ${dry.stderr}`);
  t.match(dry.stdout, /would run: install -m 0644 \S+gearhear\.service \/etc\/systemd\/system\/gearhear\.service/);
  t.match(dry.stdout, /would run: systemctl daemon-reload\n[\s\S]*would run: systemctl enable gearhear\.service\n[\s\S]*would run: systemctl restart gearhear\.service/);
  t.equal(existsSync('/etc/gearhear'), etcBefore, '/etc/gearhear was not created');
  const unknown = await runCommand('bash', [INSTALL, '--frobnicate']);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /unknown option '--frobnicate'/);
  const unbuilt = await runCommand('bash', [INSTALL, '--dry-run', '--prefix', path.join(dir, 'r'), '--from', dir]);
  t.not(unbuilt.code, 0, 'a checkout without dist/ is refused');
  t.match(unbuilt.stderr, /npm run build/);
});
