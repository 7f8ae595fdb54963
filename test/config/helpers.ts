/** Temp config files for the config tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { ConfigError, loadConfigDetailed, type LoadConfigOptions } from '../../src/config/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A temp dir removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearhear-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Loads with an empty environment and no default config file unless the options say otherwise. */
export function load(options: LoadConfigOptions = {}) {
  return loadConfigDetailed({ env: {}, defaultConfigFile: '/nonexistent/gearhear/config.json', hostname: () => 'test-host', ...options });
}

export interface ExpectedConfigError {
  key?: string | null;
  source?: string;
  allowed?: string;
  message?: RegExp;
}

/** Asserts that fn throws a ConfigError with these fields; returns it. */
export function expectConfigError(t: Test, fn: () => unknown, want: ExpectedConfigError, msg = 'throws a ConfigError'): ConfigError | undefined {
  const err = t.throws(fn, msg) as unknown;
  if (!(err instanceof ConfigError)) {
    t.fail(`${msg}: got ${String(err)}`);
    return undefined;
  }
  const { message, ...fields } = want;
  t.match(err, fields, `${msg}: fields`);
  if (message) t.match(err.message, message, `${msg}: message`);
  return err;
}
