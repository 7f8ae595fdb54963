/** Reading the raw layers (config file, environment, CLI overrides) into flat `key -> value` maps. */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import type { KeyDef } from './schema.js';
import type { ConfigSource } from './types.js';

export const DEFAULT_CONFIG_FILE = '/etc/gearhear/config.json';
export const CONFIG_FILE_ENV = 'GEARHEAR_CONFIG';

export interface Layer {
  source: ConfigSource;
  values: Map<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Flattens nested objects to dotted keys; arrays and scalars are leaves. `{ 'a.b': 1 }` and `{ a: { b: 1 } }` give the same. */
export function flatten(obj: Record<string, unknown>, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    if (isPlainObject(v) && Object.keys(v).length > 0) flatten(v, `${prefix}${k}.`, out);
    else out.set(prefix + k, v);
  }
  return out;
}

/** Edit distance (insertions, deletions, substitutions), for suggesting a key close to a misspelt one. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Known keys spelt like `key` (a few edits away, case aside) or ending in the same name (`broker.url` -> mqtt.url). */
function closeKeys(key: string, known: Iterable<string>): string[] {
  const lower = key.toLowerCase();
  const name = lower.split('.').pop()!;
  const allowed = Math.max(1, Math.floor(lower.length / 5));
  return [...known].filter((k) => editDistance(lower, k.toLowerCase()) <= allowed || k.toLowerCase().split('.').pop() === name).slice(0, 3);
}

/**
 * Throws a ConfigError for a key that is not in the schema, with the close matches and the keys of
 * the nearest group. The value is not shown: it does not matter, and a misspelt secret key
 * (`mqtt.passwrd`) must not put the secret in the log.
 */
export function checkKnown(key: string, source: ConfigSource, defs: Map<string, KeyDef>): void {
  if (defs.has(key)) return;
  const parts = key.split('.');
  let siblings: string[] = [];
  for (let n = parts.length - 1; n >= 0 && siblings.length === 0; n--) {
    const group = parts.slice(0, n).join('.');
    siblings = [...defs.keys()].filter((k) => (group === '' ? true : k.startsWith(group + '.')));
    if (group === '') siblings = [...new Set(siblings.map((k) => k.split('.')[0]!))];
  }
  const close = closeKeys(key, defs.keys());
  const hint = `check the spelling${close.length > 0 ? `; did you mean ${close.join(' or ')}?` : ''}`;
  throw new ConfigError({ key, value: undefined, source, unknownKey: true, hint, allowed: `unknown keys are errors; known here: ${siblings.join(', ')}` });
}

/** Which config file to read: --config, else GEARHEAR_CONFIG, else the default path if it exists. Null: none. */
export function pickConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv, defaultFile: string): string | null {
  if (explicit) return explicit;
  if (env[CONFIG_FILE_ENV]) return env[CONFIG_FILE_ENV]!;
  return existsSync(defaultFile) ? defaultFile : null;
}

export function readFileLayer(file: string, defs: Map<string, KeyDef>): Layer {
  const source: ConfigSource = `file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    throw new ConfigError({ key: null, value: file, source, allowed: 'a readable JSON file', hint: reason, cause: err });
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new ConfigError({ key: null, value: file, source, allowed: 'valid JSON (an object of settings)', hint: (err as Error).message, cause: err });
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigError({ key: null, value: parsed, source, allowed: 'a JSON object of settings, like {"mqtt": {"url": "mqtt://broker:1883"}}' });
  }
  const values = flatten(parsed);
  for (const key of values.keys()) checkKnown(key, source, defs);
  return { source, values };
}

/** GEARHEAR_* variables that name a key; any other GEARHEAR_* variable (a typo) is an error. */
export function readEnvLayers(env: NodeJS.ProcessEnv, defs: Map<string, KeyDef>): Layer[] {
  const byEnv = new Map([...defs].map(([key, def]) => [def.env, key]));
  const layers: Layer[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('GEARHEAR_') || name === CONFIG_FILE_ENV || value === undefined) continue;
    const key = byEnv.get(name);
    if (!key) {
      const group = name.split('_').slice(0, 2).join('_') + '_';
      const near = [...byEnv.keys()].filter((e) => e.startsWith(group)).sort();
      const known = near.length > 0 ? `known ${group}* variables: ${near.join(', ')}` : 'see docs/configuration.md for the list';
      throw new ConfigError({ key: null, value, source: `env ${name}`, allowed: `a known variable (check the spelling; ${known})` });
    }
    layers.push({ source: `env ${name}`, values: new Map([[key, value]]) });
  }
  return layers;
}

export function readCliLayer(overrides: Record<string, unknown>, defs: Map<string, KeyDef>): Layer {
  const values = flatten(overrides);
  for (const key of values.keys()) checkKnown(key, 'cli', defs);
  return { source: 'cli', values };
}
