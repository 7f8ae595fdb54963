#!/usr/bin/env node
// Renders Dockerfile.template the way balena's builder does: each %%BALENA_<NAME>%% is replaced by
// the value for the target device. Use it to build with plain Docker
// (`node deploy/balena/render.mjs --arch aarch64 > Dockerfile`) and in the tests.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Template values for the device types gearhear supports (balena's names). */
export const deviceTypes = {
  'raspberrypi4-64': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'raspberrypi4-64' },
  'raspberrypi5': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'raspberrypi5' },
  'jetson-nano': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'jetson-nano' },
  'jetson-xavier-nx-devkit': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'jetson-xavier-nx-devkit' },
  'jetson-orin-nano-devkit-nvme': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'jetson-orin-nano-devkit-nvme' },
  'jetson-agx-orin-devkit': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'jetson-agx-orin-devkit' },
  'generic-aarch64': { BALENA_ARCH: 'aarch64', BALENA_MACHINE_NAME: 'generic-aarch64' },
  'genericx86-64-ext': { BALENA_ARCH: 'amd64', BALENA_MACHINE_NAME: 'genericx86-64-ext' },
};

const PLACEHOLDER = /%%([A-Z0-9_]+)%%/g;

/**
 * Replaces every %%NAME%% in `template` with `values[NAME]`.
 * Throws, naming the placeholder and its line, when a value is missing.
 * @param {string} template
 * @param {Record<string, string>} values
 * @returns {string}
 */
export function renderTemplate(template, values) {
  return template.replace(PLACEHOLDER, (match, name, offset) => {
    const value = values[name];
    if (value === undefined) {
      const line = template.slice(0, offset).split('\n').length;
      throw new Error(`Dockerfile.template line ${line}: no value for ${match}; pass one (known: ${Object.keys(values).join(', ')})`);
    }
    return value;
  });
}

/**
 * The balena template values for an architecture or a device type name.
 * @param {{ arch?: string, deviceType?: string }} target
 * @returns {Record<string, string>}
 */
export function templateValues(target) {
  const base = target.deviceType !== undefined ? deviceTypes[target.deviceType] : undefined;
  if (target.deviceType !== undefined && base === undefined) {
    throw new Error(`unknown device type '${target.deviceType}'; known: ${Object.keys(deviceTypes).join(', ')}`);
  }
  const arch = target.arch ?? base?.BALENA_ARCH;
  if (arch === undefined) throw new Error('give --arch (aarch64 or amd64) or --device-type');
  return {
    BALENA_ARCH: arch,
    BALENA_MACHINE_NAME: base?.BALENA_MACHINE_NAME ?? `generic-${arch}`,
    BALENA_APP_NAME: 'gearhear',
    BALENA_SERVICE_NAME: 'gearhear',
    BALENA_RELEASE_HASH: 'local',
  };
}

/**
 * The build-context paths a Dockerfile copies from (COPY/ADD without --from), in order, with
 * trailing slashes kept. Line continuations are joined first; JSON-array COPY forms are read too.
 * @param {string} dockerfile
 * @returns {string[]}
 */
export function copySources(dockerfile) {
  const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim());
  const sources = [];
  for (const line of instructions) {
    const match = /^(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!match) continue;
    let args = match[2].trim();
    const flags = [];
    while (args.startsWith('--')) {
      const [flag, ...rest] = args.split(/\s+/);
      flags.push(flag);
      args = rest.join(' ');
    }
    if (flags.some((flag) => flag.startsWith('--from='))) continue;
    const words = args.startsWith('[') ? JSON.parse(args) : args.split(/\s+/);
    sources.push(...words.slice(0, -1));
  }
  return sources;
}

async function main(argv) {
  const target = {};
  let file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'Dockerfile.template');
  let listSources = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--list-copy-sources') { listSources = true; continue; }
    const value = argv[++i];
    if (flag === '--arch' && value) target.arch = value;
    else if (flag === '--device-type' && value) target.deviceType = value;
    else if (flag === '--template' && value) file = value;
    else throw new Error(`usage: render.mjs [--template FILE] (--arch aarch64|amd64 | --device-type NAME | --list-copy-sources); got '${flag}'`);
  }
  const template = await readFile(file, 'utf8');
  const output = listSources ? copySources(template).join('\n') + '\n' : renderTemplate(template, templateValues(target));
  process.stdout.write(output);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`render.mjs: ${error.message}\n`);
    process.exit(1);
  });
}
