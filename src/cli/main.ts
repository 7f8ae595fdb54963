#!/usr/bin/env node
// Commands are imported when used, so `gearhear config print` does not load onnxruntime.

const USAGE = `gearhear — listens for mechanical fault vocabulary and publishes detections over MQTT

Usage:
  gearhear run [--config FILE] [--set key=value ...]   the daemon
  gearhear detect [options] FILE...|-                  what the daemon would hear in WAV files (- : stdin)
  gearhear vocab check FILE | gearhear vocab compile FILE [--g2p espeak-ng|flite]
  gearhear calibrate [--target-fa-per-hour R] [--vocab FILE] [--labels FILE] FILE|DIR...
  gearhear calibrate --from-history | --from-feedback --feedback FILE   per-term thresholds for a site
  gearhear doctor [--config FILE] [--quick]             checks mic, model, vocabulary, broker
  gearhear config print [--config FILE]                 effective configuration, secrets masked
  gearhear clips list|export [--since WHEN] [--verdict V] [--out DIR]   evidence clips (evidence.enabled)
  gearhear enroll TERM --from FILE|DIR... | enroll list|remove|export   takes of a term by the site's people
  gearhear adapt [--negatives DIR] [--noise DIR]        site heads from the enrolled takes (model.detector=heads)
  gearhear demo [--file FILE.wav] [--realtime]          the daemon on the bundled demo recording
  gearhear --version

Every command's options: gearhear COMMAND --help (or gearhear help COMMAND).
`;

const COMMANDS = ['run', 'detect', 'vocab', 'calibrate', 'doctor', 'config', 'demo', 'clips', 'enroll', 'adapt'] as const;

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
    case 'clips': return (await import('./clips-command.js')).runClips(rest);
    case 'enroll': return (await import('./enroll-command.js')).runEnroll(rest);
    case 'adapt': return (await import('./adapt-command.js')).runAdapt(rest);
    case undefined:
      process.stderr.write(USAGE);
      return 64;
    case 'help': case '--help': case '-h': {
      const topic = rest[0];
      if (topic === undefined) { process.stdout.write(USAGE); return 0; }
      if (!(COMMANDS as readonly string[]).includes(topic)) {
        process.stderr.write(`gearhear: no command "${topic}"\n\n${USAGE}`);
        return 64;
      }
      const { COMMAND_USAGE } = await import('./usage.js');
      process.stdout.write(COMMAND_USAGE[topic as (typeof COMMANDS)[number]]);
      return 0;
    }
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
  async (err: unknown) => {
    process.stderr.write(`gearhear: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = (await import('./exit-code.js')).exitCodeFor(err);
  },
);
