/**
 * Sample-rate conversion to 16 kHz, numerically identical to `wavefile`'s toSampleRate() with its
 * defaults (cubic Hermite interpolation behind a 16-stage Butterworth low-pass run forwards and
 * backwards, output stored as 32-bit float). wavefile's own version goes through its generic
 * per-sample packers and takes seconds per minute of 44.1 kHz audio; this one runs the same
 * arithmetic, in the same order, on typed arrays, and can stop every few thousand samples so an
 * async caller can yield to the event loop between slices (see resampleInSlices).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SAMPLE_RATE } from './types.js';

/** Butterworth order wavefile uses for its IIR low-pass. */
const LPF_ORDER = 16;
/** Samples (input or output) processed between two yields of resampleInSlices. */
export const RESAMPLE_SLICE_SAMPLES = 1 << 16;

/** Resamples mono audio from `fromRate` to 16 kHz in one go (blocks for long inputs). */
export function resampleTo16k(mono: Float32Array, fromRate: number): Float32Array {
  const steps = resampleSteps(mono, fromRate, Infinity);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Resamples like resampleTo16k, yielding to the event loop after every `sliceSamples` samples of work. */
export async function resampleInSlices(mono: Float32Array, fromRate: number, sliceSamples = RESAMPLE_SLICE_SAMPLES): Promise<Float32Array> {
  const steps = resampleSteps(mono, fromRate, sliceSamples);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await yieldToEventLoop();
  }
}

/** The conversion as a generator that pauses (yields) after each slice of work. */
function* resampleSteps(mono: Float32Array, fromRate: number, sliceSamples: number): Generator<void, Float32Array> {
  if (!(Number.isFinite(fromRate) && fromRate >= 1)) throw new RangeError(`invalid sample rate ${fromRate}`);
  if (mono.length === 0) return mono;
  const samples = Float64Array.from(mono);
  const rate = (SAMPLE_RATE - fromRate) / fromRate + 1;
  const out = new Float64Array(Math.trunc(samples.length * rate));
  const interpolate = cubicInterpolator(samples, out.length);
  const filter = new ButterworthLowPass(LPF_ORDER, Math.max(fromRate, SAMPLE_RATE), Math.min(fromRate, SAMPLE_RATE) / 2);
  if (SAMPLE_RATE > fromRate) {
    for (let i = 0; i < out.length; ) {
      const start = i;
      for (const end = Math.min(out.length, i + sliceSamples); i < end; i++) out[i] = interpolate(i);
      filter.forward(out, start, i);
      yield;
    }
    yield* filterBackwards(out, filter, sliceSamples);
  } else {
    for (let i = 0; i < samples.length; i += sliceSamples) {
      filter.forward(samples, i, Math.min(samples.length, i + sliceSamples));
      yield;
    }
    yield* filterBackwards(samples, filter, sliceSamples);
    for (let i = 0; i < out.length; ) {
      for (const end = Math.min(out.length, i + sliceSamples); i < end; i++) out[i] = interpolate(i);
      yield;
    }
  }
  return Float32Array.from(out);
}

function* filterBackwards(samples: Float64Array, filter: ButterworthLowPass, sliceSamples: number): Generator<void> {
  filter.reset();
  for (let end = samples.length; end > 0; end -= sliceSamples) {
    filter.backward(samples, Math.max(0, end - sliceSamples), end);
    yield;
  }
}

/**
 * The low-pass resampling runs, forwards then backwards, over one block (in place): at 16 kHz with
 * cut-off fromRate/2 when upsampling, at fromRate with cut-off 8 kHz when downsampling. For the
 * streaming reader (wav-stream.ts), which filters blocks with margins and interpolates itself.
 */
export function lowPassBothWays(samples: Float64Array, fromRate: number): void {
  const filter = new ButterworthLowPass(LPF_ORDER, Math.max(fromRate, SAMPLE_RATE), Math.min(fromRate, SAMPLE_RATE) / 2);
  filter.forward(samples, 0, samples.length);
  filter.reset();
  filter.backward(samples, 0, samples.length);
}

/** Cubic Hermite interpolation (tension 0) of `samples` at fractional index `t`, zero outside: the interpolator below, at one point. */
export function cubicHermiteAt(samples: Float64Array, t: number): number {
  const k = Math.floor(t);
  const at = (i: number): number => (i >= 0 && i < samples.length ? samples[i]! : 0);
  const m0 = (at(k + 1) - at(k - 1)) / 2;
  const m1 = (at(k + 2) - at(k)) / 2;
  const p0 = at(k);
  const p1 = at(k + 1);
  const f = t - k;
  const f2 = f * f;
  const f3 = f * f2;
  return (2 * f3 - 3 * f2 + 1) * p0 + (f3 - 2 * f2 + f) * m0 + (-2 * f3 + 3 * f2) * p1 + (f3 - f2) * m1;
}

/** Cubic Hermite interpolation (tension 0) of `samples` stretched to `outLength`, zero outside. */
function cubicInterpolator(samples: Float64Array, outLength: number): (i: number) => number {
  const length = samples.length;
  const scale = (length - 1) / outLength;
  const at = (k: number): number => (k >= 0 && k < length ? samples[k]! : 0);
  return (i: number): number => {
    let t = scale * i;
    const k = Math.floor(t);
    const m0 = (at(k + 1) - at(k - 1)) / 2;
    const m1 = (at(k + 2) - at(k)) / 2;
    const p0 = at(k);
    const p1 = at(k + 1);
    t -= k;
    const t2 = t * t;
    const t3 = t * t2;
    return (2 * t3 - 3 * t2 + 1) * p0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * p1 + (t3 - t2) * m1;
  };
}

/** Cascade of biquad low-pass stages (direct form II), as in wavefile (after Fili.js). */
class ButterworthLowPass {
  private readonly a1: Float64Array;
  private readonly a2: Float64Array;
  private readonly b0: Float64Array;
  private readonly b1: Float64Array;
  private readonly b2: Float64Array;
  private readonly z0: Float64Array;
  private readonly z1: Float64Array;

  constructor(order: number, sampleRate: number, cutOff: number) {
    [this.a1, this.a2, this.b0, this.b1, this.b2, this.z0, this.z1] = Array.from({ length: 7 }, () => new Float64Array(order));
    const w = (2 * Math.PI * cutOff) / sampleRate;
    for (let s = 0; s < order; s++) {
      const q = 0.5 / Math.sin((Math.PI / (order * 2)) * (s + 0.5));
      const alpha = Math.sin(w) / (2 * q);
      const cw = Math.cos(w);
      const a0 = 1 + alpha;
      this.a1[s] = (-2 * cw) / a0;
      this.a2[s] = (1 - alpha) / a0;
      const b0 = (1 - cw) / (2 * a0);
      this.b0[s] = b0;
      this.b1[s] = 2 * b0;
      this.b2[s] = b0;
    }
  }

  /** Filters samples[from..to) in place, oldest first, continuing from the state the last call left. */
  forward(samples: Float64Array, from: number, to: number): void {
    this.run(samples, from, to, 1);
  }

  /** Filters samples[from..to) in place, newest first (the backward pass), continuing the state. */
  backward(samples: Float64Array, from: number, to: number): void {
    this.run(samples, to - 1, from - 1, -1);
  }

  /**
   * Stage by stage over the whole block: each stage is its own recurrence, so this gives exactly
   * what sample-by-sample cascading gives, with the stage's coefficients held in locals.
   */
  private run(samples: Float64Array, first: number, stop: number, step: 1 | -1): void {
    for (let s = 0; s < this.a1.length; s++) {
      const a1 = this.a1[s]!, a2 = this.a2[s]!, b0 = this.b0[s]!, b1 = this.b1[s]!, b2 = this.b2[s]!;
      let z0 = this.z0[s]!, z1 = this.z1[s]!;
      for (let i = first; i !== stop; i += step) {
        const temp = samples[i]! - a1 * z0 - a2 * z1;
        samples[i] = b0 * temp + b1 * z0 + b2 * z1;
        z1 = z0;
        z0 = temp;
      }
      this.z0[s] = z0;
      this.z1[s] = z1;
    }
  }

  reset(): void {
    this.z0.fill(0);
    this.z1.fill(0);
  }
}
