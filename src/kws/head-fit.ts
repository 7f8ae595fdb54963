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
  const { epochs = 200, learningRate = 0.05, l2 = 1e-3 } = options;
  const dim = pos.dim, np = count(pos), nn = count(neg);
  if (np === 0 || nn === 0) throw new Error(`fitUnit: need positives and negatives (got ${np} and ${nn})`);
  const mean = new Float64Array(dim), std = new Float64Array(dim);
  for (let i = 0; i < nn; i++) for (let k = 0; k < dim; k++) mean[k] += neg.data[i * dim + k]! / nn;
  for (let i = 0; i < nn; i++) for (let k = 0; k < dim; k++) std[k] += (neg.data[i * dim + k]! - mean[k]!) ** 2 / nn;
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(std[k]!) + 1e-3;
  // A plain loop: Float32Array.from with a map function builds a boxed array first (240 MB for 10^4 rows of 513).
  const standardise = (r: Rows): Float32Array => {
    const out = new Float32Array(r.data.length);
    for (let i = 0; i < out.length; i++) out[i] = (r.data[i]! - mean[i % dim]!) / std[i % dim]!;
    return out;
  };
  const xs = [standardise(pos), standardise(neg)];
  const labels = [1, 0], weights = [0.5 / np, 0.5 / nn], counts = [np, nn];
  const w = new Float64Array(dim + 1); // weights, then the bias
  const m = new Float64Array(dim + 1), v = new Float64Array(dim + 1), g = new Float64Array(dim + 1);
  for (let t = 1; t <= epochs; t++) {
    g.fill(0);
    for (let s = 0; s < 2; s++) {
      const x = xs[s]!, label = labels[s]!, weight = weights[s]!;
      for (let i = 0, o = 0; i < counts[s]!; i++, o += dim) {
        let z = w[dim]!;
        for (let k = 0; k < dim; k++) z += w[k]! * x[o + k]!;
        const d = (1 / (1 + Math.exp(-z)) - label) * weight;
        for (let k = 0; k < dim; k++) g[k] += d * x[o + k]!;
        g[dim] += d;
      }
    }
    for (let k = 0; k < dim; k++) g[k] += l2 * w[k]!;
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
