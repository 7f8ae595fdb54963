import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ModelLoadError } from '../../src/model/manifest.js';
import { NegativeBank } from '../../src/model/negative-bank.js';
import { EMBEDDING_DIM } from '../../src/model/speech-embedding.js';

const shipped = path.resolve(import.meta.dirname, '../../models/gearhear-heads');

t.test('the shipped bank loads: every hop is a window, each segment starts from the padding', async (t) => {
  const bank = await NegativeBank.load(shipped);
  const meta = JSON.parse(await readFile(path.join(shipped, 'negatives.json'), 'utf8')) as { hops: number; segments: number[]; init: number[] };
  t.equal(bank.hops, meta.hops);
  t.ok(bank.hops * 0.08 > 30 * 60, `${(bank.hops * 0.08 / 60).toFixed(1)} min of negative embeddings`);
  let windows = 0, firstWindow: Float32Array | null = null;
  for (const b of bank.windows(16, (s) => s === 0, 7)) {
    if (!firstWindow) firstWindow = b.data.slice(0, 16 * EMBEDDING_DIM);
    windows += b.count;
  }
  t.equal(windows, meta.segments[0], 'one window per hop of the chosen segment, across batches');
  const init = Float32Array.from(meta.init);
  t.same(Array.from(firstWindow!.subarray(0, EMBEDDING_DIM)), Array.from(init), 'the first window starts with the initial embedding');
  t.notSame(Array.from(firstWindow!.subarray(15 * EMBEDDING_DIM)), Array.from(init), 'and ends with the segment\'s first hop');
  let all = 0;
  for (const b of bank.windows(16, () => true)) all += b.count;
  t.equal(all, bank.hops);
  let fifth = 0;
  for (const b of bank.windows(16, (s) => s % 5 === 0)) fifth += b.count;
  t.equal(bank.hopsIn((s) => s % 5 === 0), fifth, 'hopsIn counts the windows the chosen segments give');
  t.equal(bank.hopsIn((s) => s % 5 === 0) + bank.hopsIn((s) => s % 5 !== 0), bank.hops);
});

t.test('a damaged bank is refused naming the file; a missing one names the folder to reinstall', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-bank-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(NegativeBank.load(dir), { name: ModelLoadError.name, message: /negatives\.json.*reinstall/ });
  await copyFile(path.join(shipped, 'negatives.json'), path.join(dir, 'negatives.json'));
  const bytes = await readFile(path.join(shipped, 'negatives.u8'));
  bytes[1000] = bytes[1000]! ^ 0xff;
  await writeFile(path.join(dir, 'negatives.u8'), bytes);
  await t.rejects(NegativeBank.load(dir), /negatives\.u8 is damaged/);
  await writeFile(path.join(dir, 'negatives.json'), '{"format":"something else"}');
  await t.rejects(NegativeBank.load(dir), /not a gearhear-negative-embeddings\/1 manifest/);
});
