import { ConfigError, EX_CONFIG, loadConfig, printableConfig } from '../config/index.js';
import { parseSetFlags } from './set-flags.js';
import { parseCommandArgs, usageError } from './usage.js';

/** `gearhear config print [--config FILE] [--set key=value ...]`. */
export async function runConfigPrint(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('config', {
    args, allowPositionals: true, options: { config: { type: 'string' }, set: { type: 'string', multiple: true } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals[0] !== 'print' || positionals.length > 1) {
    return usageError('config', positionals.length === 0 ? 'name the subcommand: print' : `unknown subcommand "${positionals.join(' ')}"`);
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
