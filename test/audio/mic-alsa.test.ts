// The real arecord (alsa-utils) against an ALSA card that does not exist: the device error reaches
// the 'error' event with arecord's own words, and the supervisor keeps retrying until stop().
import t from 'tap';
import { MicSource } from '../../src/audio/mic.js';
import type { AudioSourceError } from '../../src/audio/types.js';
import { findOnPath } from '../../src/audio/recorder.js';

const arecord = await findOnPath('arecord');

t.test('a missing ALSA card is reported with arecord\'s message and retried', { skip: arecord ? false : 'alsa-utils (arecord) is not installed' }, async (t) => {
  const source = new MicSource({ device: 'plughw:CARD=GearhearNoSuchCard', restartInitialDelayMs: 20, restartMaxDelayMs: 40 });
  t.teardown(() => source.stop());
  const errors: AudioSourceError[] = [];
  source.on('error', (e) => errors.push(e));
  const restarted = new Promise<void>((resolve) => source.on('status', (s) => s.state === 'restarting' && errors.length >= 2 && resolve()));
  await source.start();
  await restarted;
  await source.stop();
  t.match(errors[0]!.message, /^arecord \(mic:plughw:CARD=GearhearNoSuchCard\) exited with code 1: .*audio open error/);
  t.ok(errors.every((e) => !e.fatal), 'device errors are not fatal: the card may come back');
});
