/** Temp config files for the config tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { loadConfigDetailed, type LoadConfigOptions } from '../../src/config/index.js';

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
