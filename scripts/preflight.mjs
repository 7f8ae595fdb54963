// @ts-check
/**
 * Runs before the tests (first in `npm test`, and as tap's `before` for `npx tap FILE`): when a system tool the tests use or
 * the shared recordings are missing, stops the run at once with one line naming what is missing
 * and how to install it, instead of dozens of cryptic failures. Keep in step with scripts/test.sh.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** command on PATH -> Debian package that provides it. */
const COMMANDS = {
  'espeak-ng': 'espeak-ng', flite: 'flite', festival: 'festival', sox: 'sox', mosquitto: 'mosquitto',
  mosquitto_pub: 'mosquitto-clients', mosquitto_sub: 'mosquitto-clients', pocketsphinx_continuous: 'pocketsphinx',
  arecord: 'alsa-utils', openssl: 'openssl', 'systemd-analyze': 'systemd', 'qemu-x86_64': 'qemu-user',
};
/** file -> Debian package. */
const FILES = {
  '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict': 'pocketsphinx-en-us',
  '/usr/share/festival/voices/us/cmu_us_slt_arctic_hts': 'festvox-us-slt-hts',
  '/usr/share/festival/voices/english/kal_diphone': 'festvox-kallpc16k',
};
/** Python module (of /usr/bin/python3, the training smoke test's) -> Debian package. */
const PYTHON_MODULES = {
  torch: 'python3-torch', torchaudio: 'python3-torchaudio', onnx: 'python3-onnx', numpy: 'python3-numpy', scipy: 'python3-scipy',
};

function onPath(command) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function missingPythonModules() {
  const names = Object.keys(PYTHON_MODULES);
  if (!existsSync('/usr/bin/python3')) return names;
  const probe = `import importlib.util as u; print(" ".join(m for m in ${JSON.stringify(names)} if u.find_spec(m) is None))`;
  try {
    return execFileSync('/usr/bin/python3', ['-c', probe], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  } catch {
    return names;
  }
}

const packages = new Set();
for (const [command, pkg] of Object.entries(COMMANDS)) if (!onPath(command)) packages.add(pkg);
for (const [file, pkg] of Object.entries(FILES)) if (!existsSync(file)) packages.add(pkg);
for (const module of missingPythonModules()) packages.add(PYTHON_MODULES[module]);
const shared = path.resolve(repoRoot, '../shared/data');
const problems = [];
if (packages.size > 0) {
  const list = [...packages].join(' ');
  problems.push(`missing Debian packages ${list} (install: sudo apt-get install ${list}, or run scripts/test.sh, which installs them)`);
}
if (!existsSync(shared)) problems.push(`the shared recordings are not at ${shared} (put the team's shared/ folder beside the checkout)`);
if (problems.length > 0) {
  process.stderr.write(`gearhear tests cannot run: ${problems.join('; ')}\n`);
  process.exit(1);
}
