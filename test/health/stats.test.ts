import t from 'tap';
import { percentile, RollingWindow } from '../../src/health/index.js';

t.test('percentile interpolates between ranks like numpy', async (t) => {
  t.ok(Math.abs(percentile([1, 2, 3, 4], 95)! - 3.85) < 1e-12, 'p95 of 1..4 is 3.85');
  t.equal(percentile([4, 1, 3, 2], 50), 2.5, 'input order does not matter');
  t.equal(percentile([7], 95), 7);
  t.equal(percentile([10, 20, 30], 0), 10);
  t.equal(percentile([10, 20, 30], 100), 30);
  t.equal(percentile([], 95), null);
  t.throws(() => percentile([1], 101), RangeError);
  t.throws(() => percentile([1], Number.NaN), RangeError);
});

t.test('RollingWindow keeps the last N values', async (t) => {
  const w = new RollingWindow(3);
  t.equal(w.percentile(95), null);
  t.equal(w.mean(), null);
  for (const v of [1, 2, 3, 4, 5]) w.push(v);
  w.push(Number.NaN);
  t.same(w.values(), [3, 4, 5], 'oldest first, NaN ignored');
  t.equal(w.size, 3);
  t.equal(w.percentile(50), 4);
  t.equal(w.mean(), 4);
  t.equal(w.max(), 5);
  w.clear();
  t.equal(w.size, 0);
  t.throws(() => new RollingWindow(0), RangeError);
});
