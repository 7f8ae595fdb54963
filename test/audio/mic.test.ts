import t, { type Test } from 'tap';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { MicSource, type MicSourceOptions } from '../../src/audio/mic.js';
import { AudioSourceError, type AudioChunk, type AudioSource } from '../../src/audio/types.js';
import { readWavFile } from '../../src/audio/file.js';
import { audioSourceSuite } from './source-suite.js';
import { fixtureBin, isAlive, makeTempDir, sharedData } from '../fixtures/audio-helpers.js';

// The stand-in arecord (test/fixtures/bin/arecord) is found through PATH, as the real one would be.
// Each tap test file is its own process, so changing this process's environment is contained.
const ORIGINAL_PATH = process.env.PATH ?? '';
process.env.PATH = `${fixtureBin}${path.delimiter}${ORIGINAL_PATH}`;
const SPEECH = path.join(sharedData, 'speech/sentences/whisper/jfk.wav');
const speech = await readWavFile(SPEECH);
const tmp = await makeTempDir();
t.teardown(tmp.remove);

const FAST_SUPERVISION: MicSourceOptions = { device: 'plughw:CARD=Fake', restartInitialDelayMs: 50, restartMaxDelayMs: 400, stallTimeoutMs: 2000, killGraceMs: 500 };
let logCount = 0;

/** Points the stand-in at the speech file with the given fault; returns its per-run log path. */
function configureStandIn(fault = '', faultyRuns = ''): string {
  const log = path.join(tmp.dir, `arecord-${++logCount}.log`);
  Object.assign(process.env, { FAKE_ARECORD_WAV: SPEECH, FAKE_ARECORD_LOG: log, FAKE_ARECORD_FAULT: fault, FAKE_ARECORD_FAULTY_RUNS: faultyRuns });
  return log;
}

async function runsOf(log: string): Promise<Array<{ pid: number; args: string[] }>> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { pid: number; args: string[] });
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function watch(source: AudioSource) {
  const seen = { chunks: [] as AudioChunk[], errors: [] as AudioSourceError[], statuses: [] as Array<{ state: string; detail?: string }> };
  source.on('data', (c) => seen.chunks.push(c));
  source.on('error', (e) => seen.errors.push(e));
  source.on('status', (s) => seen.statuses.push(s));
  return { ...seen, samples: () => seen.chunks.reduce((n, c) => n + c.samples.length, 0) };
}

function contiguous(chunks: AudioChunk[]): boolean {
  let next = 0;
  for (const c of chunks) {
    if (c.offset !== next) return false;
    next += c.samples.length;
  }
  return true;
}

/** The delivered audio from `offset` on, as one array. */
function audioFrom(chunks: AudioChunk[], offset: number, length: number): Float32Array {
  const out = new Float32Array(length);
  for (const c of chunks) {
    for (let i = 0; i < c.samples.length; i++) {
      const at = c.offset + i - offset;
      if (at >= 0 && at < length) out[at] = c.samples[i]!;
    }
  }
  return out;
}

const sameAudio = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

async function assertRecordersGone(t: Test, log: string): Promise<void> {
  // A recorder stopped right after it spawned may not have reached its log line: those are checked by pid below.
  const runs = await runsOf(log);
  t.ok(runs.every((r) => !isAlive(r.pid)), `all ${runs.length} logged recorder processes have exited`);
}

audioSourceSuite(t, {
  name: 'MicSource (stand-in arecord)',
  async create() {
    const log = configureStandIn();
    return { source: new MicSource(FAST_SUPERVISION), assertReleased: (t) => assertRecordersGone(t, log) };
  },
  async createBroken() {
    const empty = await makeTempDir('gearhear-empty-path-');
    const source = new MicSource(FAST_SUPERVISION);
    const start = source.start.bind(source);
    source.start = async () => {
      process.env.PATH = empty.dir;
      try {
        await start();
      } finally {
        process.env.PATH = `${fixtureBin}${path.delimiter}${ORIGINAL_PATH}`;
        await empty.remove();
      }
    };
    return source;
  },
});

t.test('records raw S16_LE 16 kHz mono from the named ALSA device, sample-exact', async (t) => {
  const log = configureStandIn();
  const source = new MicSource(FAST_SUPERVISION);
  t.teardown(() => source.stop());
  const seen = watch(source);
  await source.start();
  await until(() => seen.samples() >= 16_000, 'one second of audio');
  await source.stop();
  const [run] = await runsOf(log);
  t.match(run!.args.join(' '), /-D plughw:CARD=Fake .*-t raw .*-f S16_LE/, 'arecord arguments');
  t.ok(contiguous(seen.chunks), 'contiguous offsets');
  t.ok(sameAudio(audioFrom(seen.chunks, 0, 16_000), speech.subarray(0, 16_000)), 'samples equal the recording (odd 3201-byte reads)');
  t.same(seen.statuses.map((s) => s.state), ['running', 'stopped']);
});

t.test('a recorder that dies is restarted with growing backoff; offsets keep counting', async (t) => {
  configureStandIn('die:16000', '2'); // runs 1 and 2 die after 8000 samples, run 3 is healthy
  const source = new MicSource(FAST_SUPERVISION);
  t.teardown(() => source.stop());
  const seen = watch(source);
  await source.start();
  await until(() => seen.samples() >= 16_000 + 8_000, 'audio from the third recorder');
  await source.stop();
  const restarts = seen.statuses.filter((s) => s.state === 'restarting');
  t.equal(restarts.length, 2, 'two restarts');
  t.match(restarts[0]!.detail, /restarting in 50 ms/);
  t.match(restarts[1]!.detail, /restarting in 100 ms/, 'the delay doubles');
  t.same(seen.statuses.map((s) => s.state), ['running', 'restarting', 'running', 'restarting', 'running', 'stopped']);
  t.equal(seen.errors.length, 2, 'one non-fatal error per exit');
  t.ok(seen.errors.every((e) => !e.fatal), 'the errors are not fatal');
  t.match(seen.errors[0]!.message, /arecord \(mic:plughw:CARD=Fake\) exited with code 1: arecord: pcm_read:2221: read error: Input\/output error/);
  t.ok(contiguous(seen.chunks), 'offsets are contiguous across restarts');
  t.ok(sameAudio(audioFrom(seen.chunks, 8_000, 8_000), speech.subarray(0, 8_000)), 'the second recorder starts at offset 8000');
  t.ok(sameAudio(audioFrom(seen.chunks, 16_000, 8_000), speech.subarray(0, 8_000)), 'the third at offset 16000');
});

t.test('the watchdog restarts a recorder that stops delivering', async (t) => {
  const log = configureStandIn('stall:16000', '1');
  const source = new MicSource({ ...FAST_SUPERVISION, stallTimeoutMs: 1500 });
  t.teardown(() => source.stop());
  const seen = watch(source);
  await source.start();
  await until(() => seen.samples() >= 8_000 + 4_000, 'audio after the stall');
  await source.stop();
  const stalled = seen.statuses.find((s) => s.state === 'stalled');
  t.match(stalled?.detail, /no audio from arecord \(mic:plughw:CARD=Fake\) for 1500 ms/);
  t.same(seen.statuses.map((s) => s.state), ['running', 'stalled', 'restarting', 'running', 'stopped']);
  t.same(seen.errors, [], 'a stall is a status, not an error');
  t.ok(contiguous(seen.chunks), 'offsets are contiguous across the restart');
  await assertRecordersGone(t, log);
  t.equal((await runsOf(log)).length, 2, 'the stalled recorder was replaced by one new recorder');
});

t.test('a device error is reported with arecord\'s own message and retried up to the maximum delay', async (t) => {
  const log = configureStandIn('device-error');
  const source = new MicSource({ ...FAST_SUPERVISION, device: 'plughw:CARD=Nope' });
  t.teardown(() => source.stop());
  const seen = watch(source);
  await source.start();
  await until(() => seen.errors.length >= 5, 'five failed attempts');
  await source.stop();
  t.match(seen.errors[0]!.message, /exited with code 1: ALSA lib .*Unknown PCM plughw:CARD=Nope \| arecord: main:831: audio open error: No such file or directory/);
  t.ok(seen.errors.every((e) => !e.fatal && e.source === 'mic:plughw:CARD=Nope'), 'non-fatal, naming the device');
  const delays = seen.statuses.filter((s) => s.state === 'restarting').map((s) => Number(/in (\d+) ms/.exec(s.detail ?? '')?.[1]));
  t.same(delays.slice(0, 5), [50, 100, 200, 400, 400], 'exponential backoff capped at restartMaxDelayMs');
  t.equal(seen.chunks.length, 0);
  await assertRecordersGone(t, log);
});

t.test('without an error listener, recorder failures are logged instead of thrown', async (t) => {
  configureStandIn('device-error');
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => warnings.push(msg) };
  const source = new MicSource({ ...FAST_SUPERVISION, logger });
  t.teardown(() => source.stop());
  const restarts: string[] = [];
  source.on('status', (s) => s.state === 'restarting' && restarts.push(s.state));
  await source.start();
  await until(() => restarts.length >= 2, 'two restarts');
  await source.stop();
  t.match(warnings[0], /audio open error/);
});

t.test('a missing arecord is a fatal error that says how to install it', async (t) => {
  const empty = await makeTempDir('gearhear-empty-path-');
  t.teardown(empty.remove);
  process.env.PATH = empty.dir;
  const failure = await new MicSource(FAST_SUPERVISION).start().then(() => undefined, (err: unknown) => err);
  process.env.PATH = `${fixtureBin}${path.delimiter}${ORIGINAL_PATH}`;
  t.ok(failure instanceof AudioSourceError && failure.fatal);
  t.equal((failure as Error).message, 'arecord not found on PATH; install alsa-utils');
});
