/** `gearhear doctor`: every check against the shipped model and vocabulary, a real broker and ALSA. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startMosquitto } from '../fixtures/mosquitto.js';
import { runCli, tempDir } from '../fixtures/gearhear-cli.js';

const dir = await tempDir(t, 'gearhear-doctor-');
const broker = await startMosquitto();
t.teardown(() => broker.close());

t.test('doctor passes with the shipped model, vocabulary, a file source and a real broker', async (t) => {
  const wav = path.join(dir, 'doctor.wav');
  await writeFile(wav, 'not even audio: doctor only checks that the source is readable');
  const r = await runCli(t, ['doctor'], { GEARHEAR_AUDIO_SOURCE: `file:${wav}`, GEARHEAR_MQTT_URL: broker.url, GEARHEAR_STATE_DIR: dir });
  t.equal(r.code, 0, 'exit 0', { stdout: r.stdout });
  t.match(r.stdout, /^config: ok$/m);
  t.match(r.stdout, /^model: ok — gearhear-kws .*SHA-256 verified, runs$/m);
  t.match(r.stdout, /^vocabulary: ok — .*mechanical-en\.txt: \d+ terms/m);
  t.match(r.stdout, /^calibration: ok — .*vocab\/mechanical-en\.calibration\.json \(factory\): 196 terms calibrated from recordings \(4\.6\d* h, target 0\.1 FA\/h per term\)$/m, 'the factory calibration fits the defaults');
  t.match(r.stdout, `audio: ok — file ${wav} is readable`);
  t.match(r.stdout, `broker: ok — connected to ${broker.url}`);
  t.notMatch(r.stdout, /FAILED/);
});

t.test('doctor checks the phone model on the speech embedding with model.phones = embedding', async (t) => {
  const wav = path.join(dir, 'doctor.wav');
  await writeFile(wav, 'not even audio');
  const r = await runCli(t, ['doctor'], { GEARHEAR_AUDIO_SOURCE: `file:${wav}`, GEARHEAR_MQTT_URL: broker.url, GEARHEAR_STATE_DIR: dir, GEARHEAR_MODEL_PHONES: 'embedding' });
  t.equal(r.code, 0, 'exit 0', { stdout: r.stdout });
  t.match(r.stdout, /^model: ok — gearhear-embphones 0\.\d+\.\d+ \(on the speech embedding\), SHA-256 verified, runs$/m);
  t.match(r.stdout, /^calibration: ok — .*mechanical-en\.calibration\.json \(factory\) is not for these detectors; the vocabulary's thresholds apply$/m, 'without a file of its own, the one beside the vocabulary is tried: the factory calibration is for kws');
  const bad = await runCli(t, ['doctor', '--quick'], { GEARHEAR_MODEL_PHONES: 'wav2vec' });
  t.equal(bad.code, 78, 'an unknown model.phones is a configuration error (exit 78)');
  t.match(bad.stderr + bad.stdout, /model\.phones/);
});

t.test('doctor with model.phones = both: both models run, and their own factory calibration fits', async (t) => {
  const wav = path.join(dir, 'doctor.wav');
  const r = await runCli(t, ['doctor'], { GEARHEAR_AUDIO_SOURCE: `file:${wav}`, GEARHEAR_MQTT_URL: broker.url, GEARHEAR_STATE_DIR: dir, GEARHEAR_MODEL_PHONES: 'both' });
  t.equal(r.code, 0, 'exit 0', { stdout: r.stdout });
  t.match(r.stdout, /^model: ok — gearhear-kws\+gearhear-embphones .*\(int8, with the phone head on the speech embedding\), SHA-256 verified, runs$/m);
  t.match(r.stdout, /^calibration: ok — .*vocab\/mechanical-en\.both\.calibration\.json \(factory\): 196 terms calibrated from recordings \(4\.6\d* h, target 0\.02 FA\/h per term\)$/m, 'the factory calibration made for both');
});

t.test('doctor --quick without a running daemon says there is no heartbeat', async (t) => {
  const r = await runCli(t, ['doctor', '--quick'], { GEARHEAR_STATE_DIR: dir });
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stdout, `daemon: FAILED — no heartbeat at ${path.join(dir, 'heartbeat.json')}`, 'names the heartbeat file it looked for');
});

t.test('doctor reports a missing ALSA device and still checks the broker', async (t) => {
  const r = await runCli(t, ['doctor'], { GEARHEAR_AUDIO_SOURCE: 'mic:plughw:CARD=NoSuchCard', GEARHEAR_MQTT_URL: broker.url, GEARHEAR_STATE_DIR: dir });
  t.equal(r.code, 1, 'exit 1: a check failed');
  t.match(r.stdout, /^audio: FAILED — ALSA device "plughw:CARD=NoSuchCard" not found; arecord -L lists: /m, 'names the device and what exists');
  t.match(r.stdout, new RegExp(`^broker: ok — connected to ${broker.url}$`, 'm'), 'the broker check ran against the real broker');
  t.match(r.stdout, /^model: ok/m);
});
