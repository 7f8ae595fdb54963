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
        const x = r.data, n = count(r);
        for (let i = 0, o = 0; i < n; i++, o += dim) {
          let z = c;
          for (let k = 0; k < dim; k++) z += a[k]! * x[o + k]!;
          const d = (1 / (1 + Math.exp(-z)) - label) * weight;
          for (let k = 0; k < dim; k++) raw[k] += d * x[o + k]!;
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
  for (const r of parts) for (let i = 0; i < count(r); i++) for (let k = 0; k < dim; k++) mean[k] += r.data[i * dim + k]! / n;
  for (const r of parts) for (let i = 0; i < count(r); i++) for (let k = 0; k < dim; k++) std[k] += (r.data[i * dim + k]! - mean[k]!) ** 2 / n;
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
export function fitNet(pos: Rows, neg: RowParts, options: NetOptions & { unit?: FitOptions } = {}): Net {
  const { hidden: h = 16, steps = 600, batch = { pos: 64, neg: 256 }, learningRate = 3e-3, l2 = 1e-3, seed = 1 } = options;
  const negs = partsOf(neg), dim = pos.dim, np = count(pos);
  const start = fitUnit(pos, negs, options.unit);
  const { mean, std } = standardiser(negs);
  // The i-th negative over all parts: its part and row (parts by their first row's index).
  const firsts: number[] = [];
  let nn = 0;
  for (const r of negs) { firsts.push(nn); nn += count(r); }
  const negRow = (i: number): [Rows, number] => {
    let lo = 0, hi = negs.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (firsts[mid]! <= i) lo = mid; else hi = mid - 1; }
    return [negs[lo]!, i - firsts[lo]!];
  };
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
    for (const [label, weight, draws] of [[1, 0.5 / batch.pos, batch.pos], [0, 0.5 / batch.neg, batch.neg]] as const) {
      for (let s = 0; s < draws; s++) {
        if (label === 1) sample(pos, Math.floor(rng() * np));
        else sample(...negRow(Math.floor(rng() * nn)));
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
