/**
 * AudioFeed: backpressure between a source and a listening path that is behind (issue 11, item 6).
 * Real sources: stdin fed through a real pipe by sox, a real WAV file, the stand-in arecord (which
 * delivers at 10x real time, as a mic would to a pipeline running at a tenth of its speed). The
 * sink handles audio at a fixed speed, as a loaded pipeline would.
 */
import t from 'tap';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AudioFeed } from '../../src/audio/feed.js';
import { StdinSource } from '../../src/audio/stdin.js';
import { FileSource } from '../../src/audio/file.js';
import { MicSource } from '../../src/audio/mic.js';
import { SAMPLE_RATE, type AudioChunk } from '../../src/audio/types.js';
import { readWavFile } from '../../src/audio/wav-decode.js';
import { createLogger } from '../../src/log.js';
import { fixtureBin, makeTempDir, sharedData, soxConvert } from '../fixtures/audio-helpers.js';

const SPEECH = path.join(sharedData, 'speech/sentences/whisper/jfk.wav');

/**
 * A sink that handles `speed` seconds of audio per second of wall time, one chunk after another
 * (as Listener.push does), recording what it got.
 */
function slowSink(speed: number) {
  const got: AudioChunk[] = [];
  let queue: Promise<void> = Promise.resolve();
  const sink = (chunk: AudioChunk): Promise<void> => {
    queue = queue.then(async () => {
      await sleep((chunk.samples.length / SAMPLE_RATE / speed) * 1000);
      got.push(chunk);
    });
    return queue;
  };
  return { sink, got, samples: () => got.reduce((n, c) => n + c.samples.length, 0) };
}

function contiguous(chunks: AudioChunk[]): boolean {
  let next = 0;
  for (const c of chunks) {
    if (c.offset !== next) return false;
    next += c.samples.length;
  }
  return true;
}

t.test('stdin: the pipe is paused while the pipeline is behind; every sample arrives, the backlog stays bounded', async (t) => {
  const seconds = 60;
  const tmp = await makeTempDir('gearhear-feed-');
  t.teardown(tmp.remove);
  const raw = path.join(tmp.dir, 'noise.raw');
  await new Promise((resolve, reject) => {
    spawn('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'synth', String(seconds), 'pinknoise'], { stdio: 'inherit' })
      .on('close', resolve).on('error', reject);
  });
  // cat writes the minute of raw PCM into a named pipe as fast as the pipe takes it. (A child's
  // own stdout would not do: Node resumes a child's stdio streams when the child exits.)
  const fifo = path.join(tmp.dir, 'pcm.fifo');
  await new Promise((resolve) => spawn('mkfifo', [fifo]).on('close', resolve));
  spawn('sh', ['-c', 'exec cat "$0" > "$1"', raw, fifo], { stdio: 'ignore' });
  const source = new StdinSource({ stream: createReadStream(fifo, { highWaterMark: 1 << 16 }) });
  const { sink, got, samples } = slowSink(20); // a minute of audio in ~3 s
  const feed = new AudioFeed(source, sink, { pauseAboveSec: 4, resumeBelowSec: 1 });
  const ended = new Promise<void>((resolve) => source.once('end', resolve));
  await source.start();
  await ended;
  await feed.idle();
  const stats = feed.stats();
  t.equal(samples(), seconds * SAMPLE_RATE, `all ${seconds * SAMPLE_RATE} samples were handled`);
  t.ok(contiguous(got), 'in order, none skipped');
  t.ok(stats.pauses > 0, `the source was paused (${stats.pauses} times)`);
  // A pipe read delivers up to 64 KiB (2 s of audio); the stream may hand over one more read already taken when it is paused.
  const largestChunkSec = Math.max(...got.map((c) => c.samples.length)) / SAMPLE_RATE;
  const bound = 4 + 2 * largestChunkSec;
  t.ok(stats.peakBacklogSec <= bound, `peak backlog ${stats.peakBacklogSec} s of ${seconds} s (bound: 4 s + two reads of ${largestChunkSec} s = ${bound} s)`);
  t.equal(stats.droppedChunks, 0, 'nothing dropped');
});

t.test('file: delivery pauses and resumes where it stopped, in fast and in real-time pace', async (t) => {
  const tmp = await makeTempDir('gearhear-feed-');
  t.teardown(tmp.remove);
  const file = await soxConvert(SPEECH, path.join(tmp.dir, 'long.wav'), ['-r', '16000', '-c', '1', '-b', '16'], ['repeat', '3']);
  const expected = (await readWavFile(file)).length;
  const fast = new FileSource({ path: file, pace: 'fast', chunkMs: 100 });
  const fastSink = slowSink(50);
  const fastFeed = new AudioFeed(fast, fastSink.sink, { pauseAboveSec: 2, resumeBelowSec: 0.5 });
  const fastEnded = new Promise<void>((resolve) => fast.once('end', resolve));
  await fast.start();
  await fastEnded;
  await fastFeed.idle();
  t.equal(fastSink.samples(), expected, `fast: all ${expected} samples`);
  t.ok(contiguous(fastSink.got), 'fast: in order');
  t.ok(fastFeed.stats().pauses > 0 && fastFeed.stats().peakBacklogSec <= 2.1, `fast: paused ${fastFeed.stats().pauses} times, peak backlog ${fastFeed.stats().peakBacklogSec} s`);

  // Real time with a sink at half speed over the first 3 s: the schedule waits, nothing is lost.
  const realtime = new FileSource({ path: SPEECH, pace: 'realtime', chunkMs: 100 });
  const rtSink = slowSink(0.5);
  const rtFeed = new AudioFeed(realtime, rtSink.sink, { pauseAboveSec: 0.5, resumeBelowSec: 0.2 });
  await realtime.start();
  await sleep(3000);
  await realtime.stop();
  await rtFeed.idle();
  const rt = rtFeed.stats();
  t.ok(rt.pauses > 0, `real time: paused ${rt.pauses} times`);
  t.ok(rt.peakBacklogSec <= 0.6, `real time: peak backlog ${rt.peakBacklogSec} s`);
  t.ok(contiguous(rtSink.got) && rtSink.samples() > 0, `real time: ${rtSink.samples() / SAMPLE_RATE} s handled, in order`);
});

t.test('mic: it cannot pause, so beyond the queue bound chunks are dropped, counted and logged once', async (t) => {
  const originalPath = process.env.PATH;
  process.env.PATH = `${fixtureBin}${path.delimiter}${originalPath ?? ''}`;
  Object.assign(process.env, { FAKE_ARECORD_WAV: SPEECH, FAKE_ARECORD_FAULT: '', FAKE_ARECORD_LOG: '' });
  t.teardown(() => { process.env.PATH = originalPath; });
  let logged = '';
  const logger = createLogger('info', { write: (line: string) => { logged += line; } } as unknown as NodeJS.WritableStream);
  const mic = new MicSource({ device: 'plughw:CARD=Fake', killGraceMs: 500 });
  const { sink, got, samples } = slowSink(1); // the stand-in delivers at 10x real time
  const feed = new AudioFeed(mic, sink, { maxQueueSec: 2, logger });
  await mic.start();
  for (const deadline = Date.now() + 30_000; got.length === 0 && Date.now() < deadline; ) await sleep(20); // the stand-in starting up
  await sleep(3000);
  await mic.stop();
  const stats = feed.stats();
  t.ok(stats.droppedChunks > 0, `${stats.droppedChunks} chunks (${stats.droppedSec} s) dropped and counted`);
  t.ok(stats.peakBacklogSec <= 2, `the queue never held more than 2 s (peak ${stats.peakBacklogSec} s)`);
  t.ok(samples() > 0 && got.every((c, i) => i === 0 || c.offset > got[i - 1]!.offset), `${samples() / SAMPLE_RATE} s handled, in order`);
  const warnings = logged.split('\n').filter((l) => l.includes('dropping audio'));
  t.equal(warnings.length, 1, 'one log line for the episode, not one per chunk');
});
