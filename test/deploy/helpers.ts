/** Helpers for the deployment tests: paths, commands, temp dirs, a fixture checkout, schema env names. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaKeys } from '../../src/config/schema.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a non-zero exit is a result, not a throw. */
export function runCommand(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

export async function makeTempDir(t: { teardown(fn: () => Promise<void>): void }, prefix = 'gearhear-deploy-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const readRepoFile = (relative: string): Promise<string> => readFile(path.join(repoRoot, relative), 'utf8');

/** Environment variable names the daemon accepts (an unknown GEARHEAR_* variable is a config error). */
export function knownEnvNames(): Set<string> {
  return new Set([...schemaKeys().map(([, def]) => def.env), 'GEARHEAR_CONFIG']);
}

/** Every GEARHEAR_* name mentioned in a text. */
export function envNamesIn(text: string): string[] {
  return [...new Set(text.match(/\bGEARHEAR_[A-Z0-9_]+\b/g) ?? [])];
}

/**
 * A built checkout for the installers: the real package.json, lock, .npmrc, schemas and vocabulary,
 * the real dist/ when it is built (else a one-line main.js), and the real model when exported (else
 * small placeholder files); plus a models/training file that must not be installed.
 */
export async function makeFixtureCheckout(dir: string): Promise<string> {
  const checkout = path.join(dir, 'checkout');
  await mkdir(checkout, { recursive: true });
  for (const name of ['package.json', 'package-lock.json', '.npmrc', 'schemas', 'vocab']) {
    await cp(path.join(repoRoot, name), path.join(checkout, name), { recursive: true });
  }
  const main = path.join(checkout, 'dist/src/cli/main.js');
  if (existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) await cp(path.join(repoRoot, 'dist'), path.join(checkout, 'dist'), { recursive: true });
  else await mkdir(path.dirname(main), { recursive: true }).then(() => writeFile(main, "console.log('placeholder');\n"));
  const model = path.join(checkout, 'models/gearhear-kws');
  await mkdir(model, { recursive: true });
  for (const file of ['model.json', 'model.onnx', 'model.int8.onnx']) {
    await cp(path.join(repoRoot, 'models/gearhear-kws', file), path.join(model, file)).catch(() => writeFile(path.join(model, file), '{}\n'));
  }
  await mkdir(path.join(checkout, 'models/training'), { recursive: true });
  await writeFile(path.join(checkout, 'models/training/train.py'), '# not part of the package\n');
  return checkout;
}
