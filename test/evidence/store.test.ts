/**
 * The evidence store on real files: the bounds (count, size, age) with the documented drop policy
 * and counters, verdicts that survive reopening, the reader's filters, and a full disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { silentLogger } from '../../src/log.js';
import { findClip, listClips, readClipSamples, readVerdictCounts } from '../../src/evidence/store.js';
import { EvidenceWriter, type NewClip } from '../../src/evidence/writer.js';
import { newClipId } from '../../src/evidence/recorder.js';
import { tempDir } from '../fixtures/gearhear-cli.js';

const HOUR = 3600_000;
const big = { maxClips: 1000, maxBytes: 1e9, maxAgeMs: 1000 * HOUR };

function clip(i: number, at: Date, term = 'bearing'): NewClip {
  return {
    clipId: newClipId(at), detectionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, deviceId: 'dev1',
    timestamp: at.toISOString(), term, category: 'component', severity: 'high', confidence: 0.9, threshold: 0.5,
    start: 1, end: 1.5, clipStart: 0, clipEnd: 2, sampleRate: 16000, truncated: false,
    model: { id: 'm', version: '1' }, vocabularyVersion: 'v1',
  };
}
const samples = (n: number, value = 1000): Int16Array => new Int16Array(n).fill(value);

t.test('count bound: the oldest clip without a verdict goes first, counted', async (t) => {
  const stateDir = await tempDir(t);
  const w = await EvidenceWriter.open({ stateDir, limits: { ...big, maxClips: 3 }, logger: silentLogger });
  t.teardown(() => w.close());
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 3; i++) t.ok(await w.save(clip(i, new Date(t0 + i * 1000)), samples(1600)), `clip ${i} saved`);
  const idOf = (i: number): string => clip(i, new Date()).detectionId;
  const verdict = { verdict: 'false' as const, at: new Date().toISOString() };
  await w.setVerdict(idOf(0), verdict);
  await w.save(clip(3, new Date(t0 + 3000)), samples(1600));
  const kept = (await listClips(stateDir)).clips.map((c) => c.detectionId.slice(-1));
  t.same(kept, ['0', '2', '3'], 'clip 1 (the oldest without a verdict) was dropped; clip 0 has a verdict and stays');
  t.equal(w.stats().droppedByCount, 1);
  t.equal(w.stats().clips, 3);
  t.equal((await readdir(path.join(stateDir, 'evidence'))).filter((n) => n.endsWith('.wav')).length, 3, 'its WAV is gone from disk too');
  for (let i = 4; i < 7; i++) await w.save(clip(i, new Date(t0 + i * 1000)), samples(1600));
  t.same((await listClips(stateDir)).clips.map((c) => c.detectionId.slice(-1)), ['0', '5', '6'], 'the clip with a verdict outlives newer ones without');
  await w.setVerdict(idOf(5), verdict);
  await w.setVerdict(idOf(6), verdict);
  await w.save(clip(7, new Date(t0 + 7000)), samples(1600));
  t.same((await listClips(stateDir)).clips.map((c) => c.detectionId.slice(-1)), ['5', '6', '7'], 'when only verdicts are left, the oldest of them goes');
  t.equal(w.stats().droppedByCount, 5);
});

t.test('size bound: never more bytes than maxBytes', async (t) => {
  const stateDir = await tempDir(t);
  const wav = 44 + 16000 * 2; // one second
  const w = await EvidenceWriter.open({ stateDir, limits: { ...big, maxBytes: wav * 4 + 10 }, logger: silentLogger });
  t.teardown(() => w.close());
  for (let i = 0; i < 10; i++) {
    await w.save(clip(i, new Date(Date.now() - 10_000 + i)), samples(16000));
    t.ok(w.stats().bytes <= wav * 4 + 10, `after clip ${i}: ${w.stats().bytes} bytes`);
  }
  t.equal(w.stats().clips, 4);
  t.equal(w.stats().droppedBySize, 6, 'six dropped for size');
  t.equal(w.stats().recorded, 10);
  const onDisk = (await readdir(path.join(stateDir, 'evidence'))).filter((n) => n.endsWith('.wav')).length;
  t.equal(onDisk, 4, 'and on disk');
});

t.test('age bound: old clips go at open and before each save, with or without a verdict', async (t) => {
  const stateDir = await tempDir(t);
  let now = Date.now();
  const w = await EvidenceWriter.open({ stateDir, limits: { ...big, maxAgeMs: HOUR }, logger: silentLogger, now: () => now });
  await w.save(clip(0, new Date(now - 30 * 60_000)), samples(100));
  await w.save(clip(1, new Date(now - 10 * 60_000)), samples(100));
  await w.setVerdict(w.find('last')!.clipId, { verdict: 'true', at: new Date().toISOString() });
  now += 40 * 60_000; // clip 0 is now 70 min old
  await w.save(clip(2, new Date(now)), samples(100));
  t.same((await listClips(stateDir)).clips.map((c) => c.detectionId.slice(-1)), ['1', '2']);
  t.equal(w.stats().droppedByAge, 1);
  await w.close();
  now += 60 * 60_000; // clip 1 (with its verdict) is now 110 min old
  const reopened = await EvidenceWriter.open({ stateDir, limits: { ...big, maxAgeMs: HOUR }, logger: silentLogger, now: () => now });
  t.teardown(() => reopened.close());
  t.same((await listClips(stateDir)).clips.map((c) => c.detectionId.slice(-1)), ['2'], 'pruned at open');
  t.equal(reopened.stats().droppedByAge, 1);
  t.same(await readVerdictCounts(stateDir), { bearing: { false: 0, true: 1, wrongTerm: 0 } }, 'the verdict count outlives its clip');
});

t.test('verdicts are stored with the clip, counted per term, replaced, and survive reopening', async (t) => {
  const stateDir = await tempDir(t);
  const w = await EvidenceWriter.open({ stateDir, limits: big, logger: silentLogger });
  const t0 = Date.now() - 10_000;
  await w.save(clip(1, new Date(t0)), samples(3200, -2000));
  await w.save(clip(2, new Date(t0 + 1000), 'gearbox'), samples(100));
  const first = w.find('last')!;
  const r = await w.setVerdict(first.detectionId, { verdict: 'wrong-term', saidTerm: 'gear box', at: new Date().toISOString() });
  t.same(r.counts, { false: 0, true: 0, wrongTerm: 1 });
  const b = (await listClips(stateDir)).clips[0]!;
  await w.setVerdict(b.clipId, { verdict: 'true', at: new Date().toISOString() });
  const replaced = await w.setVerdict(b.detectionId, { verdict: 'false', at: new Date().toISOString() });
  t.same(replaced.counts, { false: 1, true: 0, wrongTerm: 0 }, 'a later verdict replaces the earlier one in the counts');
  await t.rejects(w.setVerdict('nope', { verdict: 'false', at: '' }), /no evidence clip for "nope"/);
  await w.close();
  const again = await EvidenceWriter.open({ stateDir, limits: big, logger: silentLogger });
  t.teardown(() => again.close());
  t.same(again.verdictCounts(), { bearing: { false: 1, true: 0, wrongTerm: 0 }, gearbox: { false: 0, true: 0, wrongTerm: 1 } }, 'counts after reopening');
  t.same((await listClips(stateDir, { verdict: 'false' })).clips.map((c) => c.term), ['bearing'], 'filter by verdict');
  t.same((await listClips(stateDir, { verdict: 'wrong-term' })).clips.map((c) => c.verdict?.saidTerm), ['gear box']);
  t.same((await listClips(stateDir, { verdict: 'none' })).clips, []);
  t.same((await listClips(stateDir, { since: new Date(t0 + 500) })).clips.map((c) => c.term), ['gearbox'], 'filter by time');
  const found = await findClip(stateDir, b.detectionId);
  t.equal(found?.clipId, b.clipId, 'found by detection id');
  const audio = await readClipSamples(found!);
  t.equal(audio.length, 3200);
  t.equal(audio[0], -2000 / 32768, 'samples read back exactly');
});

t.test('half-written and damaged files are cleaned up at open', async (t) => {
  const stateDir = await tempDir(t);
  const dir = path.join(stateDir, 'evidence');
  const w = await EvidenceWriter.open({ stateDir, limits: big, logger: silentLogger });
  await w.save(clip(1, new Date()), samples(100));
  await w.close();
  await writeFile(path.join(dir, '20260101T000000000Z-deadbeef.wav'), 'orphan');
  await writeFile(path.join(dir, '20260101T000000000Z-0badf00d.json'), '{"format":1,');
  await writeFile(path.join(dir, 'x.wav.tmp'), '');
  const again = await EvidenceWriter.open({ stateDir, limits: big, logger: silentLogger });
  t.teardown(() => again.close());
  t.same((await readdir(dir)).sort().map((n) => n.replace(/^\d{8}T\d{9}Z-[0-9a-f]{8}/, 'ID')), ['ID.json', 'ID.wav'], 'only the complete clip is left');
  t.equal(again.stats().clips, 1);
});

t.test('a full disk: the clip is not written, counted, and nothing throws', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root for a tmpfs'); return; }
  const base = await tempDir(t);
  const stateDir = path.join(base, 'small');
  await mkdir(stateDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', stateDir]);
  t.teardown(() => execFileSync('umount', [stateDir]));
  const w = await EvidenceWriter.open({ stateDir, limits: big, logger: silentLogger });
  t.teardown(() => w.close());
  const results: boolean[] = [];
  for (let i = 0; i < 6; i++) results.push(await w.save(clip(i, new Date(Date.now() - 10_000 + i)), samples(8000)));
  t.ok(results.includes(true) && results.includes(false), `some fit, some did not (${results.join(',')})`);
  t.equal(w.stats().writeFailures, results.filter((r) => !r).length, 'each failure counted');
  t.equal((await listClips(stateDir)).clips.length, results.filter(Boolean).length, 'the listed clips are exactly the written ones');
  t.same((await readdir(path.join(stateDir, 'evidence'))).filter((n) => n.endsWith('.tmp')), [], 'no temp files left behind');
  const meta = JSON.parse(await readFile((await listClips(stateDir)).clips[0]!.metaPath, 'utf8')) as { format: number };
  t.equal(meta.format, 1);
});
