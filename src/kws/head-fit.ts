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
  const { mean, std } = standardiser(neg);
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

/** Each dimension's mean and standard deviation (+ 1e-3) over `rows`. */
function standardiser(rows: Rows): { mean: Float64Array; std: Float64Array } {
  const dim = rows.dim, n = count(rows), mean = new Float64Array(dim), std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) mean[k] += rows.data[i * dim + k]! / n;
  for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) std[k] += (rows.data[i * dim + k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < dim; k++) std[k] = Math.sqrt(std[k]!) + 1e-3;
  return { mean, std };
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

/**
 * A unit with a small hidden layer beside it: logit = unit(x) + out . relu(W x + b). What a head
 * reads may need more than one direction (a word is several sounds in a row); the unit alone cannot
 * say "this and that, but not this alone".
 */
export interface Net {
  unit: Unit;
  /** hidden x dim weights (raw features, as the unit's), hidden biases, and the output weights. */
  hidden: { weights: Float32Array; bias: Float32Array; out: Float32Array };
}

export interface NetOptions {
  hidden?: number;
  steps?: number;
  /** Positives and negatives drawn for each step. */
  batch?: { pos: number; neg: number };
  learningRate?: number;
  l2?: number;
  seed?: number;
}

/**
 * Fits a Net: first the unit (fitUnit), then the unit and the hidden layer together by mini-batch
 * Adam from there (the output weights start at 0, so training starts from the unit's answer).
 * Standardised on the negatives, as fitUnit; positives and negatives weigh the same in total.
 */
export function fitNet(pos: Rows, neg: Rows, options: NetOptions & { unit?: FitOptions } = {}): Net {
  const { hidden: h = 16, steps = 600, batch = { pos: 64, neg: 256 }, learningRate = 3e-3, l2 = 1e-3, seed = 1 } = options;
  const dim = pos.dim, np = count(pos), nn = count(neg);
  const start = fitUnit(pos, neg, options.unit);
  const { mean, std } = standardiser(neg);
  let state = (seed >>> 0) || 1;
  const rng = (): number => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return state / 4294967296; };
  // Parameters in standardised space: [unit weights (dim), unit bias, W (h x dim), b (h), out (h)].
  const uw = dim, ub = dim, w0 = dim + 1, b0 = w0 + h * dim, o0 = b0 + h, size = o0 + h;
  const p = new Float64Array(size), g = new Float64Array(size), m = new Float64Array(size), v = new Float64Array(size);
  let ubias = start.bias;
  for (let k = 0; k < dim; k++) { p[k] = start.weights[k]! * std[k]!; ubias += start.weights[k]! * mean[k]!; }
  p[ub] = ubias;
  for (let i = 0; i < h * dim; i++) p[w0 + i] = (rng() * 2 - 1) * Math.sqrt(3 / dim);
  const x = new Float64Array(dim), act = new Float64Array(h);
  const sample = (r: Rows, i: number): void => { for (let k = 0; k < dim; k++) x[k] = (r.data[i * dim + k]! - mean[k]!) / std[k]!; };
  for (let t = 1; t <= steps; t++) {
    g.fill(0);
    for (const [r, n, label, weight] of [[pos, np, 1, 0.5 / batch.pos], [neg, nn, 0, 0.5 / batch.neg]] as const) {
      const draws = label === 1 ? batch.pos : batch.neg;
      for (let s = 0; s < draws; s++) {
        sample(r, Math.floor(rng() * n));
        let z = p[ub]!;
        for (let k = 0; k < dim; k++) z += p[k]! * x[k]!;
        for (let j = 0; j < h; j++) {
          let a = p[b0 + j]!;
          const row = w0 + j * dim;
          for (let k = 0; k < dim; k++) a += p[row + k]! * x[k]!;
          act[j] = a > 0 ? a : 0;
          z += p[o0 + j]! * act[j]!;
        }
        const d = (1 / (1 + Math.exp(-z)) - label) * weight;
        for (let k = 0; k < dim; k++) g[k] += d * x[k]!;
        g[ub] += d;
        for (let j = 0; j < h; j++) {
          g[o0 + j] += d * act[j]!;
          if (act[j]! <= 0) continue;
          const dj = d * p[o0 + j]!, row = w0 + j * dim;
          g[b0 + j] += dj;
          for (let k = 0; k < dim; k++) g[row + k] += dj * x[k]!;
        }
      }
    }
    for (let k = 0; k < dim; k++) g[k] += l2 * p[k]!;
    for (let i = w0; i < b0; i++) g[i] += l2 * p[i]!;
    for (let i = 0; i < size; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
      p[i] -= (learningRate * (m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  // Fold the standardisation back, so the net applies to raw features.
  const weights = new Float32Array(dim), hw = new Float32Array(h * dim), hb = new Float32Array(h);
  let bias = p[ub]!;
  for (let k = 0; k < dim; k++) { weights[k] = p[k]! / std[k]!; bias -= (p[k]! * mean[k]!) / std[k]!; }
  for (let j = 0; j < h; j++) {
    let b = p[b0 + j]!;
    for (let k = 0; k < dim; k++) { hw[j * dim + k] = p[w0 + j * dim + k]! / std[k]!; b -= (p[w0 + j * dim + k]! * mean[k]!) / std[k]!; }
    hb[j] = b;
  }
  return { unit: { weights, bias }, hidden: { weights: hw, bias: hb, out: Float32Array.from(p.subarray(o0, o0 + h)) } };
}

/** The net's logit of each row. */
export function netLogits(net: Net, rows: Rows): Float64Array {
  const n = count(rows), out = unitLogits(net.unit, rows), { weights, bias, out: o } = net.hidden, h = bias.length, dim = rows.dim;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < h; j++) {
      let a = bias[j]!;
      for (let k = 0; k < dim; k++) a += weights[j * dim + k]! * rows.data[i * dim + k]!;
      if (a > 0) out[i] += o[j]! * a;
    }
  }
  return out;
}
