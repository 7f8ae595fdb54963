#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runDetect } from './detect-command.js';
import { runVocab } from './vocab-command.js';
import { runConfigPrint } from './config-command.js';
import { runDaemonCommand } from './run-command.js';
import { runDoctor } from './doctor.js';
import { runDemo } from './demo.js';

const USAGE = `gearhear — listens for mechanical fault vocabulary and publishes detections over MQTT

Usage:
  gearhear run [--config FILE] [--set key=value ...]   the daemon
  gearhear detect [--vocab FILE] [--model DIR] [--variant int8|fp32] [--json] FILE...
  gearhear vocab check FILE | gearhear vocab compile FILE [--g2p espeak-ng|flite]
  gearhear doctor [--config FILE] [--quick]             checks mic, model, vocabulary, broker
  gearhear config print [--config FILE]                 effective configuration, secrets masked
  gearhear demo                                         the daemon on the bundled demo recording
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': return runDaemonCommand(rest);
    case 'detect': return runDetect(rest);
    case 'vocab': return runVocab(rest);
    case 'doctor': return runDoctor(rest);
    case 'config': return runConfigPrint(rest);
    case 'demo': return runDemo(rest);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 64 : 0;
    case '--version': case 'version': {
      const { values } = parseArgs({ args: [], options: {} });
      void values;
      const { packageVersion } = await import('./version.js');
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    default:
      process.stderr.write(`gearhear: unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`gearhear: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
