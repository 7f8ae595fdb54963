import { createHash } from 'node:crypto';
import type { AcousticModel, AcousticStream, FrameLogProbs } from './types.js';

/**
 * Two phone models side by side (model.phones = both): each block of frames carries model a's frames
 * and then model b's (FrameLogProbs.channels = 2), aligned in time, for a search that scores every
 * term in each and combines the scores
 * (src/kws/paired-search.ts). Two models that stand on different inputs (our network on raw audio,
 * the head on Google's embedding) make different mistakes, so speech that only one mistakes for a
 * term can be told from a term both hear.
 *
 * `lagFrames` is how many frames later `b` puts the same phone than `a` (measured on real speech:
 * test/model/paired-phones.test.ts); frame u is a[u − lag] beside b[u], on b's timeline. Where one
 * of them has no frame (the segment's first `lag` frames for a, its last ones for b) its row is blank.
 */
export interface PairedPhonesOptions {
  a: AcousticModel;
  b: AcousticModel;
  lagFrames: number;
}

/** Log-probability of a non-blank token in a row a model did not give. */
const ABSENT_LOG_PROB = -30;

export class PairedPhoneModel implements AcousticModel {
  readonly sha256: string;
  /** Each block holds a's frames, then b's. */
  readonly channels = 2;

  constructor(private readonly o: PairedPhonesOptions) {
    const { a, b } = o;
    if (a.tokens.length !== b.tokens.length || a.tokens.some((t, i) => t !== b.tokens[i]) || a.blankIndex !== b.blankIndex) {
      throw new Error(`cannot pair phone models ${a.id} and ${b.id}: their tokens differ`);
    }
    if (Math.abs(a.frameShiftSec - b.frameShiftSec) > 1e-9) {
      throw new Error(`cannot pair phone models ${a.id} and ${b.id}: frame shifts ${a.frameShiftSec} s and ${b.frameShiftSec} s differ`);
    }
    if (!Number.isInteger(o.lagFrames) || o.lagFrames < 0) throw new Error(`paired phone models: lagFrames must be a whole number ≥ 0, got ${o.lagFrames}`);
    // What a calibration is keyed on: both models and their alignment.
    this.sha256 = createHash('sha256').update(`${a.sha256}|${b.sha256}|lag=${o.lagFrames}`).digest('hex');
  }

  get id(): string { return `${this.o.a.id}+${this.o.b.id}`; }
  get version(): string { return `${this.o.a.version}+${this.o.b.version}`; }
  get tokens(): readonly string[] { return this.o.a.tokens; }
  get blankIndex(): number { return this.o.a.blankIndex; }
  get frameShiftSec(): number { return this.o.a.frameShiftSec; }
  get computeSeconds(): number { return this.o.a.computeSeconds + this.o.b.computeSeconds; }
  get parts(): readonly [AcousticModel, AcousticModel] { return [this.o.a, this.o.b]; }

  createStream(): AcousticStream {
    return new PairedStream(this.o.lagFrames, this.o.a.createStream(), this.o.b.createStream(), this.tokens.length, this.blankIndex);
  }

  async dispose(): Promise<void> {
    await this.o.a.dispose();
    await this.o.b.dispose();
  }
}

/** Growable store of one model's frames in a segment, indexed from the segment's first frame. */
class FrameStore {
  private data = new Float32Array(0);
  frames = 0;

  constructor(private readonly tokens: number) {}

  add(f: FrameLogProbs | null): void {
    if (!f || f.frames === 0) return;
    const end = (f.startFrame + f.frames) * this.tokens;
    if (end > this.data.length) {
      const grown = new Float32Array(Math.max(end, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(f.data.subarray(0, f.frames * this.tokens), f.startFrame * this.tokens);
    this.frames = Math.max(this.frames, f.startFrame + f.frames);
  }

  row(i: number): Float32Array | null {
    return i >= 0 && i < this.frames ? this.data.subarray(i * this.tokens, (i + 1) * this.tokens) : null;
  }
}

class PairedStream implements AcousticStream {
  private readonly a: FrameStore;
  private readonly b: FrameStore;
  private readonly blankRow: Float32Array;
  private emitted = 0;

  constructor(private readonly lag: number, private readonly sa: AcousticStream, private readonly sb: AcousticStream, private readonly tokens: number, blank: number) {
    this.a = new FrameStore(tokens);
    this.b = new FrameStore(tokens);
    this.blankRow = new Float32Array(tokens).fill(ABSENT_LOG_PROB);
    this.blankRow[blank] = 0;
  }

  async accept(samples: Float32Array): Promise<FrameLogProbs | null> {
    this.a.add(await this.sa.accept(samples));
    this.b.add(await this.sb.accept(samples));
    // Frame u needs a[u − lag] and b[u].
    return this.emit(Math.min(this.b.frames, this.a.frames + this.lag));
  }

  async finish(): Promise<FrameLogProbs | null> {
    this.a.add(await this.sa.finish());
    this.b.add(await this.sb.finish());
    return this.emit(Math.max(this.b.frames, this.a.frames + this.lag));
  }

  private emit(until: number): FrameLogProbs | null {
    if (until <= this.emitted) return null;
    const V = this.tokens, n = until - this.emitted;
    const out = new Float32Array(2 * n * V);
    for (let i = 0; i < n; i++) {
      const u = this.emitted + i;
      out.set(this.a.row(u - this.lag) ?? this.blankRow, i * V);
      out.set(this.b.row(u) ?? this.blankRow, (n + i) * V);
    }
    const result = { data: out, frames: n, tokens: V, channels: 2, startFrame: this.emitted };
    this.emitted = until;
    return result;
  }
}
