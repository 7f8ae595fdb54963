/**
 * The contract every AudioSource passes (STYLE.md point 6): contiguous offsets from 0, 16 kHz mono
 * floats in [-1, 1], 'end' once for finite sources, idempotent stop() that releases what the
 * source holds, and fatal failures as AudioSourceError.
 */
import type { Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { AudioSourceError, type AudioChunk, type AudioSource } from '../../src/audio/types.js';

export interface SourceFixture {
  source: AudioSource;
  /** For sources that end by themselves: the number of samples they deliver before 'end'. */
  expectedSamples?: number;
  /** Called after start() resolved, for sources that need input pushed (stdin). */
  feed?(): void;
  /** After stop(): assert that nothing the source held is left (child processes, stream listeners). */
  assertReleased(t: Test): void | Promise<void>;
}

export interface SourceSuiteCase {
  name: string;
  create(): Promise<SourceFixture>;
  /** A source that cannot work: start() must reject, or a fatal 'error' must follow. */
  createBroken(): Promise<AudioSource>;
  /** Largest wait for audio, in ms (the stand-in recorder needs a process start). */
  timeoutMs?: number;
}

const LIVE_SOURCE_SAMPLES = 8000;

interface Recording {
  chunks: AudioChunk[];
  ends: number;
  errors: AudioSourceError[];
  states: string[];
}

function record(source: AudioSource): Recording {
  const rec: Recording = { chunks: [], ends: 0, errors: [], states: [] };
  source.on('data', (c) => rec.chunks.push(c));
  source.on('end', () => rec.ends++);
  source.on('error', (e) => rec.errors.push(e));
  source.on('status', (s) => rec.states.push(s.state));
  return rec;
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const sampleCount = (rec: Recording): number => rec.chunks.reduce((n, c) => n + c.samples.length, 0);

export function audioSourceSuite(t: Test, suiteCase: SourceSuiteCase): void {
  const timeoutMs = suiteCase.timeoutMs ?? 10_000;

  t.test(`${suiteCase.name}: delivers contiguous 16 kHz float chunks in [-1, 1]`, async (t) => {
    const fixture = await suiteCase.create();
    const rec = record(fixture.source);
    await fixture.source.start();
    fixture.feed?.();
    const finite = fixture.expectedSamples !== undefined;
    if (finite) await until(() => rec.ends > 0 || rec.errors.length > 0, timeoutMs, "'end'");
    else await until(() => sampleCount(rec) >= LIVE_SOURCE_SAMPLES, timeoutMs, `${LIVE_SOURCE_SAMPLES} samples`);
    const chunksAtEnd = rec.chunks.length;
    await fixture.source.stop();
    t.same(rec.errors, [], 'no errors');
    t.ok(rec.chunks.length > 0, 'some chunks arrived');
    let expectedOffset = 0;
    let contiguous = true;
    let inRange = true;
    let peak = 0;
    for (const { samples, offset } of rec.chunks) {
      if (!(samples instanceof Float32Array) || offset !== expectedOffset) contiguous = false;
      expectedOffset = offset + samples.length;
      for (const s of samples) {
        if (!(s >= -1 && s <= 1)) inRange = false;
        peak = Math.max(peak, Math.abs(s));
      }
    }
    t.ok(contiguous, 'Float32Array chunks with offsets contiguous from 0');
    t.ok(inRange, 'every sample is a number in [-1, 1]');
    t.ok(peak > 0.01, `the audio is not silent (peak ${peak.toFixed(3)})`);
    if (finite) {
      t.equal(rec.ends, 1, "'end' exactly once");
      t.equal(sampleCount(rec), fixture.expectedSamples, 'all samples delivered');
      t.equal(rec.chunks.length, chunksAtEnd, "no data after 'end'");
    }
    await fixture.assertReleased(t);
  });

  t.test(`${suiteCase.name}: stop() is idempotent and silences the source`, async (t) => {
    const fixture = await suiteCase.create();
    const rec = record(fixture.source);
    await fixture.source.start();
    fixture.feed?.();
    await until(() => rec.chunks.length > 0 || rec.ends > 0, timeoutMs, 'the first chunk');
    await Promise.all([fixture.source.stop(), fixture.source.stop()]);
    await fixture.source.stop();
    const chunksAtStop = rec.chunks.length;
    await sleep(150);
    t.equal(rec.chunks.length, chunksAtStop, 'no data after stop() resolved');
    t.ok(rec.states.filter((s) => s === 'stopped').length <= 1, "at most one 'stopped' status");
    t.ok(rec.ends <= 1, "'end' at most once");
    await fixture.assertReleased(t);
  });

  t.test(`${suiteCase.name}: stop() right after start() and before start()`, async (t) => {
    const early = await suiteCase.create();
    const rec = record(early.source);
    await early.source.start();
    await early.source.stop();
    const chunksAtStop = rec.chunks.length;
    early.feed?.();
    await sleep(150);
    t.equal(rec.chunks.length, chunksAtStop, 'no data after an early stop()');
    await early.assertReleased(t);

    const unstarted = await suiteCase.create();
    await unstarted.source.stop();
    await t.rejects(unstarted.source.start(), AudioSourceError, 'a stopped source cannot be started');
    await unstarted.assertReleased(t);
  });

  t.test(`${suiteCase.name}: start() twice is refused`, async (t) => {
    const fixture = await suiteCase.create();
    await fixture.source.start();
    await t.rejects(fixture.source.start(), AudioSourceError);
    await fixture.source.stop();
    await fixture.assertReleased(t);
  });

  t.test(`${suiteCase.name}: a broken source fails with a fatal AudioSourceError`, async (t) => {
    const source = await suiteCase.createBroken();
    const rec = record(source);
    let failure: unknown;
    try {
      await source.start();
      await until(() => rec.errors.some((e) => e.fatal), timeoutMs, 'a fatal error');
      failure = rec.errors.find((e) => e.fatal);
    } catch (err) {
      failure = err;
    }
    t.ok(failure instanceof AudioSourceError, 'the failure is an AudioSourceError');
    t.equal((failure as AudioSourceError).fatal, true, 'and it is fatal');
    t.match((failure as AudioSourceError).message, /\S{3,}/, 'with a message');
    const chunks = rec.chunks.length;
    await source.stop();
    await sleep(50);
    t.equal(rec.chunks.length, chunks, 'no data after the failure and stop()');
  });
}
