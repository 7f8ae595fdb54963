import t from 'tap';
import { fitUnit, patientValues, unitLogits } from '../../src/kws/head-fit.js';
import { seededRandom } from '../../src/kws/term-synth.js';

/** Gaussian-ish rows around `centre` (Irwin-Hall), with a large offset and scale on every dimension. */
function rows(n: number, dim: number, centre: number[], rng: () => number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) out[i * dim + k] = 100 + 20 * (centre[k]! + (rng() + rng() + rng() - 1.5));
  return out;
}

t.test('a unit separates two clouds that differ in one direction, on raw (unstandardised) features', async (t) => {
  const rng = seededRandom(3), dim = 8;
  const pos = rows(200, dim, [1.5, 0, 0, 0, 0, 0, 0, 0], rng), neg = rows(2000, dim, [-1.5, 0, 0, 0, 0, 0, 0, 0], rng);
  const u = fitUnit({ data: pos, dim }, { data: neg, dim });
  const lp = unitLogits(u, { data: pos, dim }), ln = unitLogits(u, { data: neg, dim });
  t.ok(lp.filter((z) => z > 0).length / lp.length > 0.97, 'positives above 0');
  t.ok(ln.filter((z) => z < 0).length / ln.length > 0.97, 'negatives below 0');
  t.ok(Math.abs(u.weights[0]!) > 5 * Math.max(...Array.from(u.weights.slice(1), Math.abs)), 'the weight is on the dimension that separates');
});

t.test('positives and negatives weigh the same in total: a 1:100 imbalance does not swamp the positives', async (t) => {
  const rng = seededRandom(4), dim = 4;
  const pos = rows(20, dim, [0.8, 0, 0, 0], rng), neg = rows(2000, dim, [-0.8, 0, 0, 0], rng);
  const lp = unitLogits(fitUnit({ data: pos, dim }, { data: neg, dim }), { data: pos, dim });
  t.ok(lp.filter((z) => z > 0).length >= 15, `${lp.filter((z) => z > 0).length} of 20 positives above 0`);
});

t.test('refuses an empty class', async (t) => {
  t.throws(() => fitUnit({ data: new Float32Array(0), dim: 2 }, { data: new Float32Array(4), dim: 2 }), /need positives and negatives/);
});

t.test('patience: the lowest of the last n hops of the same run', async (t) => {
  const v = [1, 5, 5, 5, 0, 9, 9, 9];
  t.same(Array.from(patientValues(v, [8], 1)), v, 'patience 1 leaves the values');
  t.same(Array.from(patientValues(v, [8], 3)), [-Infinity, -Infinity, 1, 5, 0, 0, 0, 9]);
  t.same(Array.from(patientValues(v, [4, 4], 3)), [-Infinity, -Infinity, 1, 5, -Infinity, -Infinity, 0, 9], 'a run never borrows hops of the one before');
});

t.test('rows of overlapping windows held once (a tail) fit and score exactly as the same rows written out', async (t) => {
  const rng = seededRandom(9), head = 3, hopDim = 2, win = 4, n = 30;
  const hops = Float32Array.from({ length: (n + win - 1) * hopDim }, () => rng() * 4 - 2);
  const feats = Float32Array.from({ length: n * head }, () => rng() * 4 - 2);
  const dim = head + win * hopDim, dense = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    dense.set(feats.subarray(i * head, (i + 1) * head), i * dim);
    dense.set(hops.subarray(i * hopDim, (i + win) * hopDim), i * dim + head);
  }
  const compact = { data: feats, dim, tail: { values: hops, stride: hopDim, length: win * hopDim } };
  const pos = { data: Float32Array.from({ length: 8 * dim }, () => rng() * 4), dim };
  const a = fitUnit(pos, [{ data: dense, dim }], { epochs: 50 }), b = fitUnit(pos, [compact], { epochs: 50 });
  t.same(Array.from(b.weights), Array.from(a.weights), 'the same weights');
  t.equal(b.bias, a.bias, 'the same bias');
  t.same(Array.from(unitLogits(a, compact)), Array.from(unitLogits(a, { data: dense, dim })), 'the same logits');
});
