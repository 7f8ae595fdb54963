/** Synthetic CTC posteriors for the keyword search tests: peaky phone runs with blanks between. */
import type { FrameLogProbs } from '../../src/model/types.js';
import { ARPABET_PHONES, BLANK_TOKEN } from '../../src/model/phones.js';
import type { KeywordSpec } from '../../src/kws/types.js';

export const TOKENS: readonly string[] = [BLANK_TOKEN, ...ARPABET_PHONES];
export const BLANK = 0;
export const FRAME_SEC = 0.02;

/** Small deterministic PRNG (mulberry32) so every run sees the same babble. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Noise {
  /** Probability of the intended token in a noisy frame. */
  target: number;
  /** Probability given to one random competitor in a noisy frame. */
  competitor: number;
  /** Fraction of frames made noisy. */
  rate: number;
}

/** Builds frames from a script of phones; remembers where each labelled span begins and ends. */
export class PosteriorBuilder {
  private rows: number[] = []; // intended token per frame
  private noisy: boolean[] = [];
  readonly marks = new Map<string, { startFrame: number; endFrame: number }>();

  constructor(private readonly random: () => number, private readonly peak = 0.9) {}

  get frames(): number {
    return this.rows.length;
  }

  blank(count: number): this {
    for (let i = 0; i < count; i++) this.push(BLANK, false);
    return this;
  }

  /** Phones, each for 2-4 frames, with 1-2 blank frames after each; `label` marks their span. */
  phones(phones: readonly string[], label?: string, noise = false): this {
    const start = this.frames;
    let end = start;
    for (const phone of phones) {
      const token = TOKENS.indexOf(phone);
      if (token < 1) throw new Error(`test posteriors: unknown phone ${phone}`);
      const run = 2 + Math.floor(this.random() * 3);
      for (let i = 0; i < run; i++) this.push(token, noise);
      end = this.frames - 1;
      this.blank(1 + Math.floor(this.random() * 2));
    }
    if (label) this.marks.set(label, { startFrame: start, endFrame: end });
    return this;
  }

  /** Random phones (not drawn from `avoid`) standing in for unrelated speech. */
  babble(count: number, avoid: readonly string[] = []): this {
    const pool = ARPABET_PHONES.filter((p) => !avoid.includes(p));
    const phones = Array.from({ length: count }, () => pool[Math.floor(this.random() * pool.length)]);
    return this.phones(phones);
  }

  /** Log-probabilities: intended token at `peak` (or noise.target with a competitor), rest uniform. */
  build(noise?: Noise): FrameLogProbs {
    const t = TOKENS.length;
    const data = new Float32Array(this.rows.length * t);
    this.rows.forEach((token, f) => {
      const probs = new Float64Array(t);
      if (noise && this.noisy[f] && this.random() < noise.rate) {
        let competitor = 1 + Math.floor(this.random() * (t - 1));
        if (competitor === token) competitor = competitor === t - 1 ? 1 : competitor + 1;
        probs.fill((1 - noise.target - noise.competitor) / (t - 2));
        probs[token] = noise.target;
        probs[competitor] = noise.competitor;
      } else {
        probs.fill((1 - this.peak) / (t - 1));
        probs[token] = this.peak;
      }
      for (let k = 0; k < t; k++) data[f * t + k] = Math.log(probs[k]);
    });
    return { data, frames: this.rows.length, tokens: t, startFrame: 0 };
  }

  private push(token: number, noisy: boolean): void {
    this.rows.push(token);
    this.noisy.push(noisy);
  }
}

/** Rows [from, to) of a block as their own block, numbered from `from`. */
export function slice(block: FrameLogProbs, from: number, to: number): FrameLogProbs {
  return { data: block.data.slice(from * block.tokens, to * block.tokens), frames: to - from, tokens: block.tokens, startFrame: from };
}

export function keyword(term: string, pronunciations: string[][], extra: Partial<KeywordSpec> = {}): KeywordSpec {
  return { term, category: 'test', severity: 'medium', threshold: 0.5, boost: 0, pronunciations, ...extra };
}
