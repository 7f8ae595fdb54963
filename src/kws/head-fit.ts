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

/** Rows of `dim` features laid end to end. */
export interface Rows {
  data: Float32Array;
  dim: number;
}

const count = (r: Rows): number => r.data.length / r.dim;

export function fitUnit(pos: Rows, neg: Rows, options: FitOptions = {}): Unit {
  const { epochs = 300, learningRate = 0.05, l2 = 1e-3 } = options;
  const dim = pos.dim, np = count(pos), nn = count(neg);
  if (np === 0 || nn === 0) throw new Error(`fitUnit: need positives and negatives (got ${np} and ${nn})`);
  const mean = new Float64Array(dim), std = new Float64Array(dim);
  for (let i = 0; i < nn; i++) for (let k = 0; k < dim; k++) mean[k] += neg.data[i * dim + k]! / nn;
  for (let i = 0; i < nn; i++) for (let k = 0; k < dim; k++) std[k] += (neg.data[i * dim + k]! - mean[k]!) ** 2 / nn;
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(std[k]!) + 1e-3;
  const w = new Float64Array(dim);
  let b = 0;
  const m = new Float64Array(dim + 1), v = new Float64Array(dim + 1), g = new Float64Array(dim + 1);
  const z = (rows: Float32Array, i: number): number => {
    let s = b;
    for (let k = 0; k < dim; k++) s += w[k]! * ((rows[i * dim + k]! - mean[k]!) / std[k]!);
    return s;
  };
  const accumulate = (rows: Float32Array, n: number, label: number, weight: number): void => {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-z(rows, i)));
      const d = (p - label) * weight;
      for (let k = 0; k < dim; k++) g[k] += d * ((rows[i * dim + k]! - mean[k]!) / std[k]!);
      g[dim] += d;
    }
  };
  for (let t = 1; t <= epochs; t++) {
    g.fill(0);
    accumulate(pos.data, np, 1, 0.5 / np);
    accumulate(neg.data, nn, 0, 0.5 / nn);
    for (let k = 0; k < dim; k++) g[k] += l2 * w[k]!;
    for (let k = 0; k <= dim; k++) {
      m[k] = 0.9 * m[k]! + 0.1 * g[k]!;
      v[k] = 0.999 * v[k]! + 0.001 * g[k]! ** 2;
      const step = (learningRate * (m[k]! / (1 - 0.9 ** t))) / (Math.sqrt(v[k]! / (1 - 0.999 ** t)) + 1e-8);
      if (k < dim) w[k] -= step;
      else b -= step;
    }
  }
  const weights = new Float32Array(dim);
  let bias = b;
  for (let k = 0; k < dim; k++) {
    weights[k] = w[k]! / std[k]!;
    bias -= (w[k]! * mean[k]!) / std[k]!;
  }
  return { weights, bias };
}

/** The unit's logit of each row. */
export function unitLogits(u: Unit, rows: Rows): Float64Array {
  const n = count(rows), out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = u.bias;
    for (let k = 0; k < rows.dim; k++) s += u.weights[k]! * rows.data[i * rows.dim + k]!;
    out[i] = s;
  }
  return out;
}
