import t, { type Test } from 'tap';
import { once } from 'node:events';
import path from 'node:path';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { compileVocabulary } from '../../src/kws/compile.js';
import { compiledHeadsPathFor } from '../../src/kws/compiled-heads.js';
import { VocabularyWatcher, type LoadedVocabulary, type VocabularyWatcherEvents } from '../../src/kws/watch.js';

const defaults = { threshold: 0.5, boost: 0 };
/** Guards against a hang only; the assertions never depend on how fast a reload comes. */
const HANG_GUARD_MS = 15_000;

/** A temp dir holding plant.txt (+ its compiled lexicon) and a started watcher, both cleaned up. */
async function setup(t: Test, vocabText: string, options: { signal?: NodeJS.Signals | null; watchFiles?: boolean } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gearhear-watch-'));
  const vocabPath = path.join(dir, 'plant.txt');
  await writeFile(vocabPath, vocabText);
  await compileVocabulary(vocabPath);
  const watcher = new VocabularyWatcher({ vocabPath, defaults, debounceMs: 50, signal: null, ...options });
  t.teardown(async () => {
    await watcher.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const initial = await watcher.start();
  return { dir, vocabPath, watcher, initial };
}

async function next<K extends keyof VocabularyWatcherEvents>(watcher: VocabularyWatcher, event: K): Promise<VocabularyWatcherEvents[K][0]> {
  const ac = new AbortController();
  const guard = setTimeout(() => ac.abort(), HANG_GUARD_MS);
  try {
    const [value] = (await once(watcher, event, { signal: ac.signal })) as VocabularyWatcherEvents[K];
    return value;
  } finally {
    clearTimeout(guard);
  }
}

const severityOf = (loaded: LoadedVocabulary | null, term: string) => loaded?.specs.find((s) => s.term === term)?.severity;

t.test('start loads and resolves the vocabulary', async (t) => {
  const { initial, watcher } = await setup(t, 'bearing | severity=info\noil leak | severity=high\n');
  t.same(initial.specs.map((s) => s.term), ['bearing', 'oil leak']);
  t.equal(watcher.current, initial);
});

t.test('an in-place edit reloads', async (t) => {
  const { vocabPath, watcher, initial } = await setup(t, 'bearing | severity=info\noil leak | severity=high\n');
  const reloaded = next(watcher, 'reload');
  await writeFile(vocabPath, 'bearing | severity=critical\noil leak | severity=high\n');
  const loaded = await reloaded;
  t.equal(severityOf(loaded, 'bearing'), 'critical');
  t.not(loaded.vocab.version, initial.vocab.version);
  t.equal(watcher.current, loaded);
});

t.test('a rename-replace save (as editors do) reloads, and keeps reloading', async (t) => {
  const { dir, vocabPath, watcher } = await setup(t, 'bearing\noil leak\n');
  for (const severity of ['high', 'low']) {
    const reloaded = next(watcher, 'reload');
    const tmp = path.join(dir, `.plant.txt.swp-${severity}`);
    await writeFile(tmp, `bearing | severity=${severity}\noil leak\n`);
    await rename(tmp, vocabPath);
    t.equal(severityOf(await reloaded, 'bearing'), severity, `replaced file with severity=${severity} was read`);
  }
});

t.test('a broken edit keeps the previous vocabulary and reports why', async (t) => {
  const { vocabPath, watcher, initial } = await setup(t, 'bearing | severity=info\n');
  const failed = next(watcher, 'error');
  await writeFile(vocabPath, 'bearing | severity=catastrophic\n');
  const error = await failed;
  t.match(error.message, /reload \(file change\) failed, keeping version [0-9a-f]{12}: [\s\S]*plant\.txt:1: term "bearing": severity "catastrophic"/);
  t.equal(watcher.current, initial, 'old vocabulary still in use');
  t.equal(await watcher.reload(), 'failed');

  const recovered = next(watcher, 'reload');
  await writeFile(vocabPath, 'bearing | severity=high\n');
  t.equal(severityOf(await recovered, 'bearing'), 'high');
});

t.test('a new word waits for the lexicon, then a recompile reloads', async (t) => {
  const { vocabPath, watcher, initial } = await setup(t, 'bearing\n');
  const failed = next(watcher, 'error');
  await writeFile(vocabPath, 'bearing\ngearbox\n');
  t.match((await failed).message, /stale: no pronunciation for "gearbox"; run `gearhear vocab compile/);
  t.equal(watcher.current, initial);

  const reloaded = next(watcher, 'reload');
  await compileVocabulary(vocabPath);
  t.same((await reloaded).specs.map((s) => s.term), ['bearing', 'gearbox'], 'lexicon change triggered the reload');
});

t.test('new compiled term heads beside the vocabulary reload it, though its terms are the same', async (t) => {
  const { vocabPath, watcher, initial } = await setup(t, 'bearing\n');
  const reloaded = next(watcher, 'reload');
  await writeFile(compiledHeadsPathFor(vocabPath), '{"format":"gearhear-compiled-heads/1"}\n');
  t.same((await reloaded).specs, initial.specs, 'same keywords, reloaded for the heads');
  t.equal(await watcher.reload('manual'), 'unchanged', 'and unchanged afterwards');
});

t.test('SIGHUP reloads; stop removes exactly its own handler', async (t) => {
  const before = process.listenerCount('SIGHUP');
  const { vocabPath, watcher } = await setup(t, 'bearing\n', { signal: 'SIGHUP', watchFiles: false });
  t.equal(process.listenerCount('SIGHUP'), before + 1);
  t.equal(await watcher.reload(), 'unchanged', 'nothing changed yet');
  await writeFile(vocabPath, 'bearing | severity=high\n');
  const reloaded = next(watcher, 'reload');
  process.kill(process.pid, 'SIGHUP');
  t.equal(severityOf(await reloaded, 'bearing'), 'high');
  await watcher.stop();
  t.equal(process.listenerCount('SIGHUP'), before);
});

t.test('start fails loudly when there is nothing to fall back to', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gearhear-watch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const vocabPath = path.join(dir, 'plant.txt');
  await writeFile(vocabPath, 'bearing\n');
  const watcher = new VocabularyWatcher({ vocabPath, defaults, signal: null });
  await t.rejects(watcher.start(), /no lexicon .*plant\.lexicon\.json/);
  await watcher.stop();
});
