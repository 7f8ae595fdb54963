#!/usr/bin/env node
// Commands are imported when used, so `gearhear config print` does not load onnxruntime.

const USAGE = `gearhear — listens for mechanical fault vocabulary and publishes detections over MQTT

Usage:
  gearhear run [--config FILE] [--set key=value ...]   the daemon
  gearhear detect [--vocab FILE] [--model DIR] [--variant int8|fp32] [--json] FILE...
  gearhear vocab check FILE | gearhear vocab compile FILE [--g2p espeak-ng|flite]
  gearhear calibrate [--target-fa-per-hour R] [--vocab FILE] [--labels FILE] FILE|DIR...
  gearhear calibrate --from-history | --from-feedback --feedback FILE   per-term thresholds for a site
  gearhear doctor [--config FILE] [--quick]             checks mic, model, vocabulary, broker
  gearhear config print [--config FILE]                 effective configuration, secrets masked
  gearhear demo                                         the daemon on the bundled demo recording
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': return (await import('./run-command.js')).runDaemonCommand(rest);
    case 'detect': return (await import('./detect-command.js')).runDetect(rest);
    case 'vocab': return (await import('./vocab-command.js')).runVocab(rest);
    case 'calibrate': return (await import('./calibrate-command.js')).runCalibrate(rest);
    case 'doctor': return (await import('./doctor.js')).runDoctor(rest);
    case 'config': return (await import('./config-command.js')).runConfigPrint(rest);
    case 'demo': return (await import('./demo.js')).runDemo(rest);
    case undefined:
      process.stderr.write(USAGE);
      return 64;
    case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version': case 'version': {
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
