import t from 'tap';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createAudioSource, parseAudioSourceSpec, AudioSourceError, FileSource, MicSource, StdinSource } from '../../src/audio/index.js';
import { sharedData } from '../fixtures/audio-helpers.js';

t.test('parseAudioSourceSpec reads every supported form', async (t) => {
  t.same(parseAudioSourceSpec('mic'), { kind: 'mic' });
  t.same(parseAudioSourceSpec('mic:plughw:CARD=Device'), { kind: 'mic', device: 'plughw:CARD=Device' }, 'device names may contain colons');
  t.same(parseAudioSourceSpec('mic:hw:1,0'), { kind: 'mic', device: 'hw:1,0' });
  t.same(parseAudioSourceSpec('file:/data/a b.wav'), { kind: 'file', path: '/data/a b.wav' }, 'paths may contain spaces');
  t.same(parseAudioSourceSpec('file:rec:1.wav'), { kind: 'file', path: 'rec:1.wav' });
  t.same(parseAudioSourceSpec('stdin'), { kind: 'stdin' });
  t.same(parseAudioSourceSpec(' stdin '), { kind: 'stdin' }, 'surrounding spaces are ignored');
  t.same(parseAudioSourceSpec('-'), { kind: 'stdin' }, '"-" means stdin');
});

t.test('parseAudioSourceSpec refuses anything else, naming the spec and the valid forms', async (t) => {
  for (const [spec, why] of [
    ['microphone', /unknown kind "microphone"/],
    ['/tmp/x.wav', /unknown kind "\/tmp\/x.wav"/],
    ['file:', /path after "file:" is empty/],
    ['mic:', /ALSA device name after "mic:" is empty/],
    ['', /unknown kind ""/],
  ] as const) {
    const err = (() => {
      try {
        parseAudioSourceSpec(spec);
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof AudioSourceError && err.fatal, `"${spec}" is a fatal AudioSourceError`);
    t.match((err as Error).message, why);
    t.match((err as Error).message, `invalid audio source "${spec}"`);
    t.match((err as Error).message, /use mic, mic:<alsa device> .*file:<path\.wav> or stdin/);
  }
});

t.test('createAudioSource builds the source the spec names, with its options', async (t) => {
  const mic = createAudioSource('mic:plughw:CARD=Device', { mic: { stallTimeoutMs: 1000 } });
  t.ok(mic instanceof MicSource);
  t.equal(mic.description, 'mic:plughw:CARD=Device');
  t.equal(createAudioSource('mic').description, 'mic:default');

  const wav = path.join(sharedData, 'speech/words/fsdd/0_jackson_0.wav');
  const file = createAudioSource(`file:${wav}`, { file: { pace: 'fast', chunkMs: 10 } });
  t.ok(file instanceof FileSource);
  let chunks = 0;
  file.on('data', (c) => {
    chunks++;
    t.ok(c.samples.length <= 160, 'the chunkMs option reached the source');
  });
  const ended = new Promise<void>((resolve) => file.once('end', resolve));
  await file.start();
  await ended;
  t.equal(chunks, Math.ceil(10296 / 160));

  const stream = new PassThrough();
  const stdin = createAudioSource('stdin', { stdin: { stream } });
  t.ok(stdin instanceof StdinSource);
  await stdin.start();
  t.equal(stream.listenerCount('data'), 1, 'the injected stream is the one read');
  await stdin.stop();

  t.throws(() => createAudioSource('speaker'), AudioSourceError);
});
