/**
 * Import direction: calibration sits below the daemon and the CLI (it is used by both), so none of
 * its modules imports from them; and the benchmark's modules import one another without a cycle.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { repoRoot } from '../fixtures/gearhear-cli.js';

/** Relative imports of every .ts file under `dir` (recursively), as resolved repository paths. */
async function importGraph(dir: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const entries = await readdir(path.join(repoRoot, dir), { recursive: true, withFileTypes: true });
  for (const e of entries.filter((x) => x.isFile() && x.name.endsWith('.ts'))) {
    const file = path.relative(repoRoot, path.join(e.parentPath, e.name));
    const text = await readFile(path.join(repoRoot, file), 'utf8');
    const targets = [...text.matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)]
      .map((m) => path.normalize(path.join(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
    graph.set(file, targets);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const walk = (node: string, trail: string[]): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...trail.slice(trail.indexOf(node)), node];
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) {
      const cycle = walk(next, [...trail, node]);
      if (cycle) return cycle;
    }
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = walk(node, []);
    if (cycle) return cycle;
  }
  return null;
}

t.test('src/calibration imports nothing from src/cli or src/daemon', async (t) => {
  const graph = await importGraph('src/calibration');
  t.ok(graph.size >= 5, `${graph.size} modules read`);
  const upward = [...graph].flatMap(([file, targets]) => targets.filter((x) => /^src\/(cli|daemon)\//.test(x)).map((x) => `${file} -> ${x}`));
  t.same(upward, [], 'no import runs back up');
});

t.test('the benchmark modules import one another without a cycle', async (t) => {
  const graph = await importGraph('bench');
  t.ok(graph.has('bench/memory.ts') && graph.has('bench/memory-stdin.ts'), 'bench:memory read');
  t.equal(findCycle(graph)?.join(' -> ') ?? null, null);
});

t.test('the cycle check finds a cycle', async (t) => {
  t.same(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  t.equal(findCycle(new Map([['a', ['b']], ['b', []]])), null);
});
