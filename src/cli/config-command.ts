import { parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG, loadConfig, printableConfig } from '../config/index.js';
import { parseSetFlags } from './set-flags.js';

/** `gearhear config print [--config FILE] [--set key=value ...]`. */
export async function runConfigPrint(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, options: { config: { type: 'string' }, set: { type: 'string', multiple: true } },
  });
  if (positionals[0] !== 'print') {
    process.stderr.write('usage: gearhear config print [--config FILE] [--set key=value ...]\n');
    return 64;
  }
  try {
    const cfg = loadConfig({ configFile: values.config, argvOverrides: parseSetFlags(values.set ?? []) });
    process.stdout.write(printableConfig(cfg) + '\n');
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gearhear: configuration error: ${err.message}\n`);
      return EX_CONFIG;
    }
    throw err;
  }
}
