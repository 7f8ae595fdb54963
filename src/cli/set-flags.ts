import { ConfigError } from '../config/index.js';

/** `--set mqtt.url=mqtt://broker:1883` flags -> dotted overrides for loadConfig (highest precedence). */
export function parseSetFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError({
        key: null, value: flag, source: 'cli', allowed: 'key=value, e.g. --set mqtt.url=mqtt://broker:1883',
      });
    }
    out[flag.slice(0, eq).trim()] = flag.slice(eq + 1);
  }
  return out;
}
