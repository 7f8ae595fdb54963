import t from 'tap';
import { MemoryBudget, type MemoryTransition } from '../../src/health/index.js';

const MB = 1024 * 1024;

t.test('states follow RSS against the budget, with transitions emitted', async (t) => {
  let rssMb = 100;
  const budget = new MemoryBudget({ budgetMb: 100 * 2, readRssBytes: () => rssMb * MB });
  const seen: MemoryTransition[] = [];
  budget.on('change', (c) => seen.push(c));
  t.equal(budget.check(), 'ok');
  t.equal(seen.length, 0, 'no event without a change');
  rssMb = 160; // 80%
  t.equal(budget.check(), 'warn');
  rssMb = 180; // 90%
  t.equal(budget.check(), 'shed');
  rssMb = 200; // exactly the budget is not over it
  t.equal(budget.check(), 'shed');
  rssMb = 201;
  t.equal(budget.check(), 'exceeded');
  t.same(seen.map((c) => `${c.from}>${c.to}`), ['ok>warn', 'warn>shed', 'shed>exceeded']);
  t.match(seen[2], { rssMb: 201, budgetMb: 200, ratio: 1.005 });
});

t.test('falling back needs a margin below the threshold', async (t) => {
  let rssMb = 185;
  const budget = new MemoryBudget({ budgetMb: 200, readRssBytes: () => rssMb * MB });
  t.equal(budget.check(), 'shed');
  rssMb = 175; // 87.5%: below 90% but within the 5% margin
  t.equal(budget.check(), 'shed');
  rssMb = 165; // 82.5%: clear of shed, still warn
  t.equal(budget.check(), 'warn');
  rssMb = 40;
  t.equal(budget.check(), 'ok');
  t.equal(budget.state, 'ok');
});

t.test('reads the real RSS by default', async (t) => {
  const tiny = new MemoryBudget({ budgetMb: 1 });
  t.equal(tiny.check(), 'exceeded', 'a node process is larger than 1 MB');
  const roomy = new MemoryBudget({ budgetMb: 65536 });
  t.equal(roomy.check(), 'ok');
  t.throws(() => new MemoryBudget({ budgetMb: 0 }), RangeError);
  t.throws(() => new MemoryBudget({ budgetMb: 10, warnRatio: 0.95, shedRatio: 0.9 }), RangeError);
});
