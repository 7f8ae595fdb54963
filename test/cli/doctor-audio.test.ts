/** `gearhear doctor` opens the microphone as the daemon does, instead of only finding arecord. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { fixtureBin } from '../fixtures/audio-helpers.js';
import { runCli, tempDir } from '../fixtures/gearhear-cli.js';

const run = promisify(execFile);
const dir = await tempDir(t, 'gearhear-doctor-audio-');
// No broker is needed for these checks; an unreachable one keeps them quick and off the network.
const env = { GEARHEAR_MQTT_URL: 'mqtt://127.0.0.1:9', GEARHEAR_STATE_DIR: dir };
const audioLine = (stdout: string): string => stdout.split('\n').find((l) => l.startsWith('audio:')) ?? '(no audio line)';

t.test('a device that arecord cannot open fails the check with arecord\'s own words', async (t) => {
  // The stand-in arecord answers as ALSA does for a PCM it does not know.
  const r = await runCli(t, ['doctor'], { ...env, GEARHEAR_AUDIO_SOURCE: 'mic', PATH: `${fixtureBin}${path.delimiter}${process.env.PATH}`, FAKE_ARECORD_FAULT: 'device-error' });
  t.match(audioLine(r.stdout), /^audio: FAILED — cannot capture from mic:default: .*Unknown PCM default/);
  t.equal(r.code, 1);
});

t.test('a device that delivers audio passes (ALSA\'s null capture device, real arecord)', async (t) => {
  const r = await runCli(t, ['doctor'], { ...env, GEARHEAR_AUDIO_SOURCE: 'mic:null' });
  t.match(audioLine(r.stdout), /^audio: ok — mic:null opened, audio arriving/);
});

t.test('the default device: doctor says what really happens when it is opened (no sound card here: FAILED)', async (t) => {
  const opens = await run('arecord', ['-D', 'default', '-q', '-t', 'raw', '-f', 'S16_LE', '-r', '16000', '-c', '1', '-s', '1600', '/dev/null'], { timeout: 10_000 })
    .then(() => true, () => false);
  const r = await runCli(t, ['doctor'], { ...env, GEARHEAR_AUDIO_SOURCE: 'mic' });
  t.match(audioLine(r.stdout), opens ? /^audio: ok — mic:default opened/ : /^audio: FAILED — cannot capture from mic:default: .*audio open error/, `arecord ${opens ? 'opens' : 'cannot open'} the default device on this machine`);
});
