/** Every command answers --help with its usage and every option; a wrong option is exit 64 with the usage. */
import t from 'tap';
import { EX_USAGE, runCli } from '../fixtures/gearhear-cli.js';

/** Each command, how it is invoked, and options its usage must name. */
const COMMANDS: Array<{ name: string; argv: string[]; options: string[] }> = [
  { name: 'run', argv: ['run'], options: ['--config', '--set', '--help'] },
  {
    name: 'detect', argv: ['detect'],
    options: ['--json', '--files-from', '--vocab', '--model', '--variant', '--threshold', '--vad', '--threads', '--config', '--set', '--help'],
  },
  {
    name: 'calibrate', argv: ['calibrate'],
    options: ['--target-fa-per-hour', '--vocab', '--labels', '--out', '--model', '--variant', '--from-history', '--from-feedback', '--feedback', '--config', '--set', '--json', '--help'],
  },
  { name: 'vocab', argv: ['vocab', 'check'], options: ['check', 'compile', '--g2p', '--help'] },
  { name: 'doctor', argv: ['doctor'], options: ['--config', '--set', '--quick', '--help'] },
  { name: 'config', argv: ['config', 'print'], options: ['--config', '--set', '--help'] },
  { name: 'demo', argv: ['demo'], options: ['--file', '--realtime', '--help'] },
  { name: 'enroll', argv: ['enroll', 'list'], options: ['list', 'remove', 'export', '--from', '--takes', '--wait', '--play', '--who', '--term', '--json', '--out', '--config', '--set', '--help'] },
  { name: 'adapt', argv: ['adapt'], options: ['--terms', '--negatives', '--noise', '--dry-run', '--json', '--config', '--set', '--help'] },
  { name: 'clips', argv: ['clips', 'list'], options: ['list', 'export', '--since', '--verdict', '--term', '--json', '--out', '--config', '--set', '--help'] },
];

for (const c of COMMANDS) {
  t.test(`gearhear ${c.argv.join(' ')} --help / -h / help ${c.name}`, async (t) => {
    for (const argv of [[...c.argv, '--help'], [...c.argv, '-h'], ['help', c.name]]) {
      const r = await runCli(t, argv);
      t.equal(r.code, 0, `${argv.join(' ')}: exit 0`, { stderr: r.stderr });
      t.match(r.stdout, new RegExp(`^Usage: gearhear ${c.name}`), 'prints the command\'s usage on stdout');
      const missing = c.options.filter((o) => !r.stdout.includes(o));
      t.same(missing, [], 'names every option');
    }
  });

  t.test(`gearhear ${c.argv.join(' ')} --no-such-option: exit 64 with the usage`, async (t) => {
    const r = await runCli(t, [...c.argv, '--no-such-option']);
    t.equal(r.code, EX_USAGE);
    t.match(r.stderr, /Unknown option '--no-such-option'/, 'names the option');
    t.match(r.stderr, new RegExp(`Usage: gearhear ${c.name}`), 'then the usage');
    t.equal(r.stdout, '');
  });
}

t.test('an option without its value is a usage error too', async (t) => {
  const r = await runCli(t, ['run', '--config']);
  t.equal(r.code, EX_USAGE);
  t.match(r.stderr, /--config[\s\S]*Usage: gearhear run/);
});

t.test('the overview points to each command\'s help', async (t) => {
  const r = await runCli(t, ['--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /gearhear COMMAND --help/);
  const bad = await runCli(t, ['help', 'frobnicate']);
  t.equal(bad.code, EX_USAGE);
});
