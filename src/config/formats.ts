/**
 * Strict value formats for the config schema. Convict's built-ins are loose where it matters on a
 * device configured through environment variables: "0" is a true boolean, "12abc" is the number 12,
 * "" is NaN. Each format here has two halves:
 *  - `coerce(raw)`: turns a string (from env, CLI or file) into the typed value when it parses,
 *    and otherwise returns the raw string unchanged so that `validate` rejects it with a clear message;
 *  - `validate(value, item)`: throws an Error saying what is allowed (ranges and enums come from the item).
 */
import convict from 'convict';

/** Schema-item fields the formats read, beyond convict's own (doc, default, env, sensitive). */
export interface FormatItem {
  min?: number;
  max?: number;
  /** Enum values. */
  allowed?: readonly string[];
  /** Durations: the unit the number is stored in. */
  unit?: DurationUnit;
  /** Strings and paths: whether '' (unset) is accepted. */
  optional?: boolean;
}

export interface FormatSpec {
  coerce(raw: string): unknown;
  validate(value: unknown, item: FormatItem): void;
  /** What is allowed, in words (for errors and docs). */
  describe(item: FormatItem): string;
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export type DurationUnit = 'ms' | 's' | 'h';
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+\.?\d*|\.\d+)\s*(ms|s|min|m|h|d)$/i;
const SIZE_RE = /^(\d+\.?\d*|\.\d+)\s*(b|kb|kib|mb|mib|gb|gib)$/i;
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** The number written, or the raw text (which validation then rejects) when it is not one or is too large for a double (`1e309`). */
function parseNumber(raw: string): number | string {
  const s = raw.trim();
  return NUMBER_RE.test(s) && Number.isFinite(Number(s)) ? Number(s) : raw;
}

/** A value with a unit converted; the raw text when the product overflows. */
const finiteOr = (n: number, raw: string): number | string => (Number.isFinite(n) ? n : raw);

function range(item: FormatItem): string {
  if (item.min !== undefined && item.max !== undefined) return ` from ${item.min} to ${item.max}`;
  if (item.min !== undefined) return ` >= ${item.min}`;
  if (item.max !== undefined) return ` <= ${item.max}`;
  return '';
}

function checkNumber(value: unknown, item: FormatItem, integer: boolean, what: string): void {
  // Text that reads as a number yet reached here overflowed a double (parseNumber keeps the text).
  const overflowed = typeof value === 'string' ? [NUMBER_RE, DURATION_RE, SIZE_RE].some((re) => re.test(value.trim())) : value === Infinity || value === -Infinity;
  if (overflowed) throw new Error('out of range: not a finite number');
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (item.min === undefined || value >= item.min) &&
    (item.max === undefined || value <= item.max);
  if (!ok) throw new Error(`must be ${what}${range(item)}`);
}

function checkString(value: unknown, item: FormatItem): asserts value is string {
  if (typeof value !== 'string') throw new Error('must be a string');
  if (!item.optional && value.trim() === '') throw new Error('must not be empty');
}

const number: FormatSpec = {
  coerce: parseNumber,
  validate: (v, item) => checkNumber(v, item, false, 'a number'),
  describe: (item) => `a number${range(item)}`,
};

const integer: FormatSpec = {
  coerce: parseNumber,
  validate: (v, item) => checkNumber(v, item, true, 'an integer'),
  describe: (item) => `an integer${range(item)}`,
};

const boolean: FormatSpec = {
  coerce(raw) {
    const s = raw.trim().toLowerCase();
    if (TRUE_WORDS.includes(s)) return true;
    if (FALSE_WORDS.includes(s)) return false;
    return raw;
  },
  validate(v) {
    if (typeof v !== 'boolean') throw new Error(`must be a boolean: ${TRUE_WORDS.join('/')} or ${FALSE_WORDS.join('/')}`);
  },
  describe: () => `a boolean: ${TRUE_WORDS.join('/')} or ${FALSE_WORDS.join('/')}`,
};

const enumeration: FormatSpec = {
  coerce: (raw) => raw.trim(),
  validate(v, item) {
    if (typeof v !== 'string' || !(item.allowed ?? []).includes(v)) throw new Error(`must be one of ${(item.allowed ?? []).join(', ')}`);
  },
  describe: (item) => `one of ${(item.allowed ?? []).join(', ')}`,
};

/** Comma-separated list: items trimmed, empty items dropped. A JSON array in a file is accepted too. */
const list: FormatSpec = {
  coerce: (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  validate(v) {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.trim() === '')) throw new Error('must be a comma-separated list of non-empty names');
  },
  describe: () => 'a comma-separated list',
};

/** Durations: a number in the key's unit, or a number with a unit (300ms, 5s, 2m, 1h, 7d). */
const duration: FormatSpec = {
  coerce: parseNumber,
  validate: (v, item) => checkNumber(v, item, false, `a duration in ${item.unit ?? 'ms'} (or with a unit: 300ms, 5s, 2m, 1h, 7d)`),
  describe: (item) => `a duration in ${item.unit ?? 'ms'}${range(item)} (or with a unit: ms, s, m, h, d)`,
};

/** Converts `5s` style strings to the key's unit; plain numbers are already in that unit. */
export function durationIn(raw: string, unit: DurationUnit): number | string {
  const m = DURATION_RE.exec(raw.trim());
  if (!m) return parseNumber(raw);
  return finiteOr((Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!) / UNIT_MS[unit]!, raw);
}

/** Byte sizes: a plain number of bytes, or with a unit (512kB, 50MB, 1GiB). */
const bytes: FormatSpec = {
  coerce(raw) {
    const m = SIZE_RE.exec(raw.trim());
    return m ? finiteOr(Math.round(Number(m[1]) * SIZE_BYTES[m[2]!.toLowerCase()]!), raw) : parseNumber(raw);
  },
  validate: (v, item) => checkNumber(v, item, true, 'a size in bytes (or with a unit: 512kB, 50MB, 1GiB)'),
  describe: (item) => `a size in bytes${range(item)} (or with a unit: kB, MB, GB, KiB, MiB, GiB)`,
};

const string: FormatSpec = {
  coerce: (raw) => raw,
  validate: (v, item) => checkString(v, item),
  describe: (item) => (item.optional ? 'a string (may be empty)' : 'a non-empty string'),
};

/** File or directory path; resolved to an absolute path at load. */
const path: FormatSpec = {
  coerce: (raw) => raw.trim(),
  validate(v, item) {
    checkString(v, item);
    if (v.includes('\0')) throw new Error('must not contain NUL characters');
  },
  describe: (item) => (item.optional ? 'a file path (empty: unset)' : 'a file path'),
};

/**
 * Longest device or site id. It is a topic level of every message and part of the client id; MQTT
 * caps a topic at 65,535 bytes and brokers far lower in practice (and 23 characters of client id in 3.1.1).
 */
export const MAX_TOPIC_LEVEL_CHARS = 128;

/** One MQTT topic level: no '/', '+' or '#', at most MAX_TOPIC_LEVEL_CHARS characters. */
const topicLevel: FormatSpec = {
  coerce: (raw) => raw.trim(),
  validate(v, item) {
    checkString(v, item);
    if (/[/+#\s]/.test(v)) throw new Error("must be one MQTT topic level: no '/', '+', '#' or spaces");
    if (v.length > MAX_TOPIC_LEVEL_CHARS) throw new Error(`${v.length} characters, too long for an MQTT topic level`);
  },
  describe: (item) => `one MQTT topic level of at most ${MAX_TOPIC_LEVEL_CHARS} characters (no / + # or spaces)${item.optional ? ', may be empty' : ''}`,
};

/** A topic prefix: levels separated by '/', no wildcards, no leading or trailing '/'. */
const topicPrefix: FormatSpec = {
  coerce: (raw) => raw.trim(),
  validate(v, item) {
    checkString(v, item);
    if (/[+#\s]/.test(v) || v.startsWith('/') || v.endsWith('/') || v.includes('//')) {
      throw new Error("must be an MQTT topic prefix like gearhear or plant1/gearhear: no '+', '#', spaces or empty levels");
    }
  },
  describe: () => 'an MQTT topic prefix (levels separated by /, no + # or spaces)',
};

export const AUDIO_SOURCE_FORMS = 'mic, mic:<alsa device>, file:<path.wav> or stdin';

const audioSource: FormatSpec = {
  coerce: (raw) => raw.trim(),
  validate(v) {
    const ok = typeof v === 'string' && (v === 'mic' || v === 'stdin' || /^mic:\S+$/.test(v) || /^file:.+$/.test(v));
    if (!ok) throw new Error(`must be ${AUDIO_SOURCE_FORMS}`);
  },
  describe: () => AUDIO_SOURCE_FORMS,
};

const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

/** True when an `@` follows a `/`, `?` or `#` after `://`: a password with those unencoded, which parsers split inside. */
function userInfoBreaksAuthority(url: string): boolean {
  const rest = url.slice(url.indexOf('://') + 3);
  return /[/?#][^]*@/.test(rest);
}

const mqttUrl: FormatSpec = {
  coerce: (raw) => raw.trim(),
  validate(v) {
    const help = 'must be embedded or a broker URL: mqtt://host:1883, mqtts://host:8883, ws://host/mqtt or wss://...';
    if (v === 'embedded') return;
    if (typeof v === 'string' && v.includes('://') && userInfoBreaksAuthority(v)) {
      throw new Error("'/', '?', '#' and '@' in the user name or password must be percent-encoded (%2F %3F %23 %40), or give them as mqtt.username and mqtt.password");
    }
    if (typeof v !== 'string' || !URL.canParse(v)) throw new Error(help);
    const url = new URL(v);
    if (!MQTT_PROTOCOLS.includes(url.protocol) || url.hostname === '') throw new Error(help);
  },
  describe: () => 'embedded, or an mqtt:// mqtts:// ws:// wss:// URL',
};

export const FORMATS = {
  'gh-number': number,
  'gh-int': integer,
  'gh-bool': boolean,
  'gh-enum': enumeration,
  'gh-list': list,
  'gh-duration': duration,
  'gh-bytes': bytes,
  'gh-string': string,
  'gh-path': path,
  'gh-topic-level': topicLevel,
  'gh-topic-prefix': topicPrefix,
  'gh-audio-source': audioSource,
  'gh-mqtt-url': mqttUrl,
} satisfies Record<string, FormatSpec>;

export type FormatName = keyof typeof FORMATS;

/**
 * Registers the formats with convict (its format table is module-wide; registering the same
 * functions again is harmless). Duration coercion needs the item's unit, which convict does not pass
 * to coerce, so the loader converts `5s` style strings itself before handing values to convict.
 */
export function registerFormats(): void {
  for (const [name, spec] of Object.entries(FORMATS)) {
    convict.addFormat({ name, coerce: (raw: string) => spec.coerce(raw), validate: (v: unknown, item: convict.SchemaObj) => spec.validate(v, item as FormatItem) });
  }
}
