/**
 * The clip recorder on a known stream: each clip holds exactly the stream's samples from preRoll
 * before the term to postRoll after it, waits for its post-roll, and is cut (and says so) at the
 * stream's edges or where the history ends.
 */
import t, { type Test } from 'tap';
import { silentLogger } from '../../src/log.js';
import { ClipRecorder, type ClipSubject } from '../../src/evidence/recorder.js';
import { findClip, listClips, readClipSamples } from '../../src/evidence/store.js';
import { EvidenceWriter } from '../../src/evidence/writer.js';
import { tempDir } from '../fixtures/gearhear-cli.js';

const SR = 16000;
/** Sample i of the test stream: a value that names its index (mod 30000), exact through int16. */
const valueAt = (i: number): number => ((i % 30000) - 15000) / 32768;

function chunks(fromSample: number, toSample: number, size = 1600): Array<{ samples: Float32Array; offset: number }> {
  const out = [];
  for (let at = fromSample; at < toSample; at += size) {
    const n = Math.min(size, toSample - at);
    const samples = new Float32Array(n);
    for (let k = 0; k < n; k++) samples[k] = valueAt(at + k);
    out.push({ samples, offset: at });
  }
  return out;
}

function subject(start: number, end: number, n = 1): Omit<ClipSubject, 'detectionId'> & { detectionId: string } {
  return {
    detectionId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, timestamp: new Date(Date.now() + n), deviceId: 'dev1',
    term: 'bearing', category: 'component', severity: 'high', confidence: 0.91234, threshold: 0.5, start, end,
    model: { id: 'm', version: '1' }, vocabularyVersion: 'v1',
  };
}

async function setup(t: Test, historyMs = 12_000) {
  const stateDir = await tempDir(t);
  const writer = await EvidenceWriter.open({ stateDir, limits: { maxClips: 100, maxBytes: 1e9, maxAgeMs: 1e9 }, logger: silentLogger });
  t.teardown(() => writer.close());
  const recorder = new ClipRecorder({ writer, preRollMs: 1000, postRollMs: 500, historyMs, logger: silentLogger });
  return { stateDir, writer, recorder };
}

function expectSamples(t: Test, got: Float32Array, fromSample: number, what: string): void {
  let bad = -1;
  for (let k = 0; k < got.length && bad < 0; k++) if (got[k] !== valueAt(fromSample + k)) bad = k;
  t.equal(bad, -1, `${what}: every sample is the stream's own (${got.length} samples from ${fromSample})`);
}

t.test('a clip is 1 s before the term to 0.5 s after it, written once the post-roll is heard', async (t) => {
  const { stateDir, recorder } = await setup(t);
  const stream = chunks(0, 10 * SR);
  for (const c of stream.slice(0, 50)) recorder.audio(c); // 5 s heard
  const clipId = recorder.capture(subject(3.2, 4.8)); // the term ends at 4.8 s; the post-roll needs up to 5.3 s
  t.match(clipId, /^\d{8}T\d{9}Z-[0-9a-f]{8}$/);
  await new Promise((r) => setTimeout(r, 50));
  t.equal((await listClips(stateDir)).clips.length, 0, 'not written before its post-roll is heard');
  for (const c of stream.slice(50, 54)) recorder.audio(c); // up to 5.4 s
  await recorder.settled(clipId);
  const clip = await findClip(stateDir, clipId);
  t.ok(clip, 'written once the audio reached 5.3 s');
  t.equal(clip!.clipStart, 2.2);
  t.equal(clip!.clipEnd, 5.3);
  t.equal(clip!.truncated, false);
  t.equal(clip!.confidence, 0.912, 'figures rounded as in the payload');
  const audio = await readClipSamples(clip!);
  t.equal(audio.length, Math.round(3.1 * SR));
  expectSamples(t, audio, 2.2 * SR, 'clip');
});

t.test('near the start of the stream the pre-roll is cut, and the clip says so', async (t) => {
  const { stateDir, recorder } = await setup(t);
  for (const c of chunks(0, 3 * SR)) recorder.audio(c);
  const id = recorder.capture(subject(0.4, 0.9));
  await recorder.settled(id);
  const clip = (await findClip(stateDir, id))!;
  t.equal(clip.clipStart, 0);
  t.equal(clip.clipEnd, 1.4);
  t.equal(clip.truncated, true, 'truncated: less than 1 s before the term');
  expectSamples(t, await readClipSamples(clip), 0, 'clip');
});

t.test('end of input: waiting clips are written with the audio there is', async (t) => {
  const { stateDir, recorder, writer } = await setup(t);
  for (const c of chunks(0, 2 * SR)) recorder.audio(c);
  const id = recorder.capture(subject(1.5, 1.9));
  await recorder.flush();
  const clip = (await findClip(stateDir, id))!;
  t.equal(clip.clipEnd, 2, 'ends where the stream ended');
  t.equal(clip.truncated, true);
  t.equal(writer.stats().truncated, 1, 'counted as truncated');
  expectSamples(t, await readClipSamples(clip), 0.5 * SR, 'clip');
});

t.test('the ring keeps only its history: a term reported too late gets what is left', async (t) => {
  const { stateDir, recorder } = await setup(t, 2000); // 2 s + rolls = 3.5 s of history
  for (const c of chunks(0, 20 * SR, 1000)) recorder.audio(c); // the ring wraps many times
  const id = recorder.capture(subject(15, 16)); // asks 14 s .. 16.5 s; the ring holds 16.5 s .. 20 s
  const fresh = recorder.capture(subject(18.2, 18.9, 2));
  await recorder.flush();
  const late = (await findClip(stateDir, id))!;
  t.equal(late.truncated, true);
  const good = (await findClip(stateDir, fresh))!;
  t.equal(good.truncated, false);
  t.equal(good.clipStart, 17.2);
  expectSamples(t, await readClipSamples(good), 17.2 * SR, 'a clip from a wrapped ring');
});
