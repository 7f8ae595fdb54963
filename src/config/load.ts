/**
 * loadConfig: defaults < config file < GEARHEAR_* environment < CLI overrides, validated strictly
 * into a typed plain object. Every error is a ConfigError naming key, value, source and what is allowed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import convict from 'convict';
import { redactUrl } from '../redact.js';
import { ConfigError, MASK } from './errors.js';
import { checkAudioFile, checkReadable, checkTlsFiles } from './file-checks.js';
import { durationIn, FORMATS, registerFormats } from './formats.js';
import { SCHEMA, schemaKeys, type KeyDef } from './schema.js';
import { DEFAULT_CONFIG_FILE, pickConfigFile, readCliLayer, readEnvLayers, readFileLayer, type Layer } from './sources.js';
import type { ConfigSource, GearhearConfig } from './types.js';

export interface LoadConfigOptions {
  /** CLI flags as overrides: nested (`{ mqtt: { url } }`) or dotted (`{ 'mqtt.url': ... }`); strings are parsed like env values. */
  argvOverrides?: Record<string, unknown>;
  /** Environment to read GEARHEAR_* from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** `--config FILE`; otherwise GEARHEAR_CONFIG, otherwise defaultConfigFile if it exists. */
  configFile?: string;
  /** Default /etc/gearhear/config.json. */
  defaultConfigFile?: string;
  /** Base of relative paths given in the environment or on the command line (default process.cwd()). */
  cwd?: string;
  /** Default os.hostname; device.id falls back to it when BALENA_DEVICE_UUID is not set. */
  hostname?: () => string;
}

export interface LoadedConfig {
  config: GearhearConfig;
  /** Where each key's value came from. */
  sources: Record<string, ConfigSource>;
  configFile: string | null;
}

/** The folder holding gearhear's package.json (the install dir), found from this file. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'gearhear') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find gearhear's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const SCHEMA_KEYS = new Map(schemaKeys());

/** Parses a raw string the way the key's format does (durations with units convert to the key's unit). */
function coerce(def: KeyDef, raw: unknown): unknown {
  if (def.format === 'gh-list' && Array.isArray(raw)) return raw.map((s) => (typeof s === 'string' ? s.trim() : s)).filter((s) => s !== '');
  if (typeof raw !== 'string') return raw;
  return def.format === 'gh-duration' ? durationIn(raw, def.unit ?? 'ms') : FORMATS[def.format].coerce(raw);
}

/** The object holding a dotted key's value, and the last part of the key. */
function slot(cfg: GearhearConfig, key: string): [Record<string, unknown>, string] {
  const parts = key.split('.');
  const name = parts.pop()!;
  const holder = parts.reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, cfg as unknown as Record<string, unknown>);
  return [holder, name];
}

/** A value as errors and `config print` show it: secrets masked, URLs without their user-info. */
function shown(def: KeyDef, value: unknown): unknown {
  if (def.sensitive && value !== '') return MASK;
  return def.format === 'gh-mqtt-url' && typeof value === 'string' ? redactUrl(value) : value;
}

function validateKey(key: string, def: KeyDef, value: unknown, source: ConfigSource): void {
  const spec = FORMATS[def.format];
  try {
    spec.validate(value, def);
  } catch (err) {
    const reason = (err as Error).message;
    throw new ConfigError({ key, value: shown(def, value), source, allowed: spec.describe(def), hint: reason.startsWith('must be') ? undefined : reason });
  }
}

function pathBase(def: KeyDef, source: ConfigSource, cwd: string): string {
  if (source === 'default') return def.packageRelative ? packageRoot() : cwd;
  if (source.startsWith('file ')) return path.dirname(path.resolve(cwd, source.slice(5)));
  return cwd;
}

/** Cross-key rules and values resolved at load (device id, password file, paths). */
function finish(cfg: GearhearConfig, sources: Record<string, ConfigSource>, cwd: string): void {
  for (const [key, def] of SCHEMA_KEYS) {
    if (def.format !== 'gh-path') continue;
    const [holder, name] = slot(cfg, key);
    const value = holder[name] as string;
    if (value !== '') holder[name] = path.resolve(pathBase(def, sources[key]!, cwd), value);
  }
  for (const key of ['passwordFile', 'ca', 'cert', 'key'] as const) checkReadable(cfg, key, sources);
  const { mqtt } = cfg;
  if ((mqtt.cert === '') !== (mqtt.key === '')) {
    const missing = mqtt.cert === '' ? 'mqtt.cert' : 'mqtt.key';
    throw new ConfigError({ key: missing, value: '', source: sources[missing]!, allowed: 'set together with mqtt.cert/mqtt.key (a client certificate needs both)' });
  }
  checkTlsFiles(cfg, sources);
  checkAudioFile(cfg, sources, cwd);
  if (mqtt.passwordFile !== '') {
    if (mqtt.password !== '') {
      throw new ConfigError({ key: 'mqtt.passwordFile', value: mqtt.passwordFile, source: sources['mqtt.passwordFile']!, allowed: 'unset when mqtt.password (GEARHEAR_MQTT_PASSWORD) is set: give the password one way only' });
    }
    mqtt.password = readFileSync(mqtt.passwordFile, 'utf8').replace(/\r?\n$/, '');
  }
}

/** Loads and validates the configuration; throws ConfigError (exit with EX_CONFIG) on any bad value. */
export function loadConfigDetailed(options: LoadConfigOptions = {}): LoadedConfig {
  registerFormats();
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = pickConfigFile(options.configFile, env, options.defaultConfigFile ?? DEFAULT_CONFIG_FILE);

  const layers: Layer[] = [];
  if (configFile) layers.push(readFileLayer(path.resolve(cwd, configFile), SCHEMA_KEYS));
  layers.push(...readEnvLayers(env, SCHEMA_KEYS));
  if (options.argvOverrides) layers.push(readCliLayer(options.argvOverrides, SCHEMA_KEYS));

  // convict holds the schema and the merged values; it reads no env or argv itself, so every
  // value's source is known here and errors can name it.
  // The cast: convict's Schema<T> type cannot express the extra item fields (min, unit, allowed...).
  const conf = convict<GearhearConfig>(SCHEMA as unknown as convict.Schema<GearhearConfig>, { env: {}, args: [] });
  const sources: Record<string, ConfigSource> = Object.fromEntries([...SCHEMA_KEYS.keys()].map((k) => [k, 'default' as ConfigSource]));
  for (const layer of layers) {
    for (const [key, raw] of layer.values) {
      conf.set(key, coerce(SCHEMA_KEYS.get(key)!, raw));
      sources[key] = layer.source;
    }
  }
  if (conf.get('device.id') === '') {
    const fallback = (env.BALENA_DEVICE_UUID ?? '').trim() || (options.hostname ?? osHostname)();
    conf.set('device.id', fallback);
  }
  for (const [key, def] of SCHEMA_KEYS) validateKey(key, def, conf.get(key as never), sources[key]!);
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    // Not reached while the checks above mirror the schema; kept so convict's own checks still hold.
    throw new ConfigError({ key: null, value: undefined, source: 'default', allowed: 'values matching the schema', hint: (err as Error).message, cause: err });
  }
  const config = conf.getProperties();
  finish(config, sources, cwd);
  return { config, sources, configFile };
}

export function loadConfig(options: LoadConfigOptions = {}): GearhearConfig {
  return loadConfigDetailed(options).config;
}

/** The configuration as pretty JSON with secrets masked; what `gearhear config print` shows. */
export function printableConfig(cfg: GearhearConfig): string {
  const copy = structuredClone(cfg);
  for (const [key, def] of SCHEMA_KEYS) {
    const [holder, name] = slot(copy, key);
    holder[name] = shown(def, holder[name]);
  }
  return JSON.stringify(copy, null, 2);
}
