/** The module boundaries the code review asked for, checked on the source itself. */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backoffDelayMs } from '../../src/backoff.js';
import { emitErrorIfHeard } from '../../src/events.js';
import { blockLevelDbfs, LEVEL_FLOOR_DBFS, levelDbfs } from '../../src/audio/level.js';
import { frameLevelDb } from '../../src/vad/energy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = path.join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

/** Every module specifier a file imports or re-exports, resolved relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => path.relative(src, path.resolve(path.dirname(file), s)));
}

for (const stage of ['publish', 'config']) {
  t.test(`src/${stage} does not import src/kws`, async (t) => {
    const offenders = sources(path.join(src, stage)).flatMap((f) =>
      importsOf(f).filter((i) => i.startsWith('kws/')).map((i) => `${path.relative(src, f)} -> ${i}`));
    t.same(offenders, [], 'Detection and Severity come from the leaf src/detection.ts');
  });
}

t.test('src/detection.ts is a leaf', async (t) => {
  t.same(importsOf(path.join(src, 'detection.ts')), []);
});

t.test('dead code is gone', async (t) => {
  t.notOk(existsSync(path.join(src, 'publish', 'index.ts')), 'src/publish/index.ts (a barrel nobody imports)');
  const all = sources(src).map((f) => readFileSync(f, 'utf8')).join('\n');
  t.notMatch(all, /\bdefaultModelDir\b/, 'defaultModelDir');
  t.notMatch(all, /\bhasLexicon\b/, 'hasLexicon');
  const loaders = sources(src).filter((f) => /loadLexiconFor\(/.test(readFileSync(f, 'utf8')) && !f.endsWith('lexicon.ts'));
  t.same(loaders.map((f) => path.relative(src, f)), ['kws/load.ts'], 'one vocabulary loader: kws/load.ts');
});

t.test('one loudness function with one floor', async (t) => {
  t.equal(blockLevelDbfs(new Float32Array(512)), LEVEL_FLOOR_DBFS, 'digital silence reads as the floor');
  t.equal(levelDbfs(0, 0), LEVEL_FLOOR_DBFS, 'no samples reads as the floor');
  t.equal(frameLevelDb(new Float32Array(512)), LEVEL_FLOOR_DBFS, 'the VAD uses the same floor');
  const square = new Float32Array(512).fill(1);
  t.equal(blockLevelDbfs(square), 0, 'full-scale square is 0 dBFS');
  const own = sources(src).filter((f) => !f.endsWith(path.join('audio', 'level.ts')) && /Math\.log10\(/.test(readFileSync(f, 'utf8')));
  t.same(own.map((f) => path.relative(src, f)), [], 'no other module computes dBFS itself');
});

t.test('one backoff helper', async (t) => {
  const o = { minDelayMs: 500, maxDelayMs: 30_000 };
  t.same([0, 1, 2, 3, 6, 7, 20].map((n) => backoffDelayMs(n, o)), [500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
  const jittered = backoffDelayMs(2, { ...o, jitter: 0.2 }, () => 0);
  t.equal(jittered, 1600, 'jitter spreads the delay by up to the fraction given');
  t.equal(backoffDelayMs(2, { ...o, jitter: 0.2 }, () => 1), 2400);
  const doubling = sources(src).filter((f) => /\* 2 \*\* |[dD]elay\w* \* 2\b/.test(readFileSync(f, 'utf8')) && !f.endsWith('backoff.ts'));
  t.same(doubling.map((f) => path.relative(src, f)), [], 'no other module computes its own backoff');
});

t.test('one "emit error if anyone listens" helper', async (t) => {
  const e = new EventEmitter();
  t.equal(emitErrorIfHeard(e, new Error('nobody hears')), false, 'no listener: not thrown, reported as unheard');
  const heard: string[] = [];
  e.on('error', (err: Error) => heard.push(err.message));
  t.equal(emitErrorIfHeard(e, new Error('heard')), true);
  t.same(heard, ['heard']);
  const own = sources(src).filter((f) => /listenerCount\('error'\)/.test(readFileSync(f, 'utf8')) && !f.endsWith('events.ts'));
  t.same(own.map((f) => path.relative(src, f)), []);
});
