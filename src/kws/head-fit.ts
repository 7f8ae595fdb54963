/**
 * Fitting one logistic unit on feature vectors: the numerical core of a compiled head. Features are
 * standardised on the negatives first and the scaling folded back into the weights, so the unit
 * applies to raw features. Full-batch Adam on weighted cross-entropy with L2; positives and
 * negatives weigh the same in total.
 */
export interface FitOptions {
  epochs?: number;
  learningRate?: number;
  l2?: number;
}

export interface Unit {
  weights: Float32Array;
  bias: number;
}

/**
 * Rows of `dim` values. Without `tail`, `data` holds each row's values end to end. With it, `data`
 * holds each row's first `dim - tail.length` values end to end, and the rest of row i are
 * `tail.values[i * tail.stride ...]`: rows that are overlapping windows of one sequence (16 hops of
 * embeddings, one hop apart) share those values instead of holding 16 copies.
 */
export interface Rows {
  data: Float32Array;
  dim: number;
  tail?: { values: Float32Array; stride: number; length: number };
}

const headDim = (r: Rows): number => r.dim - (r.tail?.length ?? 0);
const count = (r: Rows): number => r.data.length / headDim(r);

/** Calls `visit(values, offset, length, first)` for the two pieces of row i (the second only with a tail). */
function pieces(r: Rows, i: number, visit: (values: Float32Array, offset: number, length: number, first: number) => void): void {
  const d0 = headDim(r);
  visit(r.data, i * d0, d0, 0);
  if (r.tail) visit(r.tail.values, i * r.tail.stride, r.tail.length, d0);
}

/** Negatives may come as several parts (the bank, the term's own, other terms'), never joined: no copy is made. */
export type RowParts = Rows | readonly Rows[];

const partsOf = (r: RowParts): readonly Rows[] => ('data' in r ? [r] : r);

export function fitUnit(pos: Rows, neg: RowParts, options: FitOptions = {}): Unit {
  const { epochs = 200, learningRate = 0.05, l2 = 1e-3 } = options;
  const negs = partsOf(neg), dim = pos.dim, np = count(pos), nn = negs.reduce((a, r) => a + count(r), 0);
  if (np === 0 || nn === 0) throw new Error(`fitUnit: need positives and negatives (got ${np} and ${nn})`);
  // Fitted on standardised features without a standardised copy: each epoch works on raw rows with the
  // weights scaled (a = w / std, c = bias - a . mean) and turns the raw gradient back.
  const { mean, std } = standardiser(negs);
  const sets = [{ parts: [pos], label: 1, weight: 0.5 / np }, { parts: negs, label: 0, weight: 0.5 / nn }];
  const w = new Float64Array(dim + 1); // weights, then the bias (standardised space)
  const m = new Float64Array(dim + 1), v = new Float64Array(dim + 1), g = new Float64Array(dim + 1), raw = new Float64Array(dim), a = new Float64Array(dim);
  for (let t = 1; t <= epochs; t++) {
    let c = w[dim]!;
    for (let k = 0; k < dim; k++) { a[k] = w[k]! / std[k]!; c -= a[k]! * mean[k]!; }
    raw.fill(0);
    let dsum = 0;
    for (const { parts, label, weight } of sets) {
      for (const r of parts) {
        const x = r.data, n = count(r), d0 = headDim(r), tv = r.tail?.values, ts = r.tail?.stride ?? 0, tl = r.tail?.length ?? 0;
        for (let i = 0, o = 0, ot = 0; i < n; i++, o += d0, ot += ts) {
          let z = c;
          for (let k = 0; k < d0; k++) z += a[k]! * x[o + k]!;
          if (tv) for (let k = 0; k < tl; k++) z += a[d0 + k]! * tv[ot + k]!;
          const d = (1 / (1 + Math.exp(-z)) - label) * weight;
          for (let k = 0; k < d0; k++) raw[k] += d * x[o + k]!;
          if (tv) for (let k = 0; k < tl; k++) raw[d0 + k] += d * tv[ot + k]!;
          dsum += d;
        }
      }
    }
    for (let k = 0; k < dim; k++) g[k] = (raw[k]! - mean[k]! * dsum) / std[k]! + l2 * w[k]!;
    g[dim] = dsum;
    for (let k = 0; k <= dim; k++) {
      m[k] = 0.9 * m[k]! + 0.1 * g[k]!;
      v[k] = 0.999 * v[k]! + 0.001 * g[k]! ** 2;
      w[k] -= (learningRate * (m[k]! / (1 - 0.9 ** t))) / (Math.sqrt(v[k]! / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  const out = new Float32Array(dim);
  let bias = w[dim]!;
  for (let k = 0; k < dim; k++) {
    out[k] = w[k]! / std[k]!;
    bias -= (w[k]! * mean[k]!) / std[k]!;
  }
  return { weights: out, bias };
}

/** Each dimension's mean and standard deviation (+ 1e-3) over every row of `parts`. */
function standardiser(parts: readonly Rows[]): { mean: Float64Array; std: Float64Array } {
  const dim = parts[0]!.dim, n = parts.reduce((a, r) => a + count(r), 0), mean = new Float64Array(dim), std = new Float64Array(dim);
  for (const r of parts) for (let i = 0; i < count(r); i++) pieces(r, i, (x, o, len, at) => { for (let k = 0; k < len; k++) mean[at + k] += x[o + k]! / n; });
  for (const r of parts) for (let i = 0; i < count(r); i++) pieces(r, i, (x, o, len, at) => { for (let k = 0; k < len; k++) std[at + k] += (x[o + k]! - mean[at + k]!) ** 2 / n; });
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(std[k]!) + 1e-3;
  return { mean, std };
}

/** The unit's logit of each row. */
export function unitLogits(u: Unit, rows: Rows): Float64Array {
  const n = count(rows), out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = u.bias;
    pieces(rows, i, (x, o, len, at) => { for (let k = 0; k < len; k++) s += u.weights[at + k]! * x[o + k]!; });
    out[i] = s;
  }
  return out;
}

/** Each hop's value replaced by the lowest of its last `patience` hops in its run (-Infinity before). */
export function patientValues(values: ArrayLike<number>, runs: readonly number[], patience: number): Float64Array {
  const out = new Float64Array(values.length);
  let first = 0;
  for (const len of runs) {
    for (let i = 0; i < len; i++) {
      if (i + 1 < patience) {
        out[first + i] = -Infinity;
        continue;
      }
      let low = Infinity;
      for (let k = 0; k < patience; k++) low = Math.min(low, values[first + i - k]!);
      out[first + i] = low;
    }
    first += len;
  }
  return out;
}
