import * as ort from 'onnxruntime-node';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AcousticModel, AcousticStream, FrameLogProbs } from './types.js';
import { ModelLoadError, readManifest, readVerifiedModelFile, type ModelManifest, type ModelVariant } from './manifest.js';

export interface ModelOptions {
  /** Folder holding model.json. */
  dir: string;
  /** Defaults to the manifest's defaultVariant. */
  variant?: ModelVariant;
  /** onnxruntime intra-op threads (default 1: leave the other cores to the rest of the device). */
  intraOpThreads?: number;
  /** Run the model once this many new frames are final (latency vs. re-computed context). */
  chunkFrames?: number;
  /** The same in milliseconds of audio (used when chunkFrames is not given). */
  chunkMs?: number;
}

export const MODEL_DEFAULTS = { intraOpThreads: 1, chunkFrames: 25 } as const;

/** The model shipped with gearhear (models/gearhear-kws beside the package). */
export function defaultModelDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'gearhear-kws');
}

/** Output frames a model yields for `samples` input samples. */
export function framesFor(m: ModelManifest, samples: number): number {
  // The front end frames the audio in whole hops: an analysis window spans ceil(window / hop) of them.
  const hops = Math.floor(samples / m.hopSamples) - Math.ceil(m.windowSamples / m.hopSamples) + 1;
  return hops < 2 ? 0 : Math.floor((hops - 2) / m.subsample) + 1;
}

export class OnnxAcousticModel implements AcousticModel {
  private compute = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly manifest: ModelManifest,
    readonly variant: ModelVariant,
    private readonly chunkFrames: number,
  ) {}

  static async load(options: ModelOptions): Promise<OnnxAcousticModel> {
    const manifest = await readManifest(options.dir);
    const variant = options.variant ?? manifest.defaultVariant;
    const bytes = await readVerifiedModelFile(options.dir, manifest, variant);
    const threads = options.intraOpThreads ?? MODEL_DEFAULTS.intraOpThreads;
    if (!Number.isInteger(threads) || threads < 1) throw new ModelLoadError(`model.intraOpThreads must be an integer >= 1, got ${threads}`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Input lengths vary per call: a memory arena and memory patterns only hold on to RAM.
        enableCpuMemArena: false,
        enableMemPattern: false,
      });
    } catch (err) {
      const file = path.join(options.dir, manifest.variants[variant]!.file);
      throw new ModelLoadError(`onnxruntime could not load ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (!session.inputNames.includes(manifest.input.name) || !session.outputNames.includes(manifest.output.name)) {
      throw new ModelLoadError(`model ${manifest.id}: graph has inputs [${session.inputNames.join(', ')}] and outputs ` +
        `[${session.outputNames.join(', ')}], but model.json names ${manifest.input.name} -> ${manifest.output.name}`);
    }
    const frameMs = (manifest.frameShiftSamples / manifest.sampleRate) * 1000;
    const chunkFrames = options.chunkFrames ?? (options.chunkMs ? Math.max(1, Math.round(options.chunkMs / frameMs)) : MODEL_DEFAULTS.chunkFrames);
    return new OnnxAcousticModel(session, manifest, variant, chunkFrames);
  }

  get id(): string { return this.manifest.id; }
  get version(): string { return this.manifest.version; }
  get sha256(): string { return this.manifest.variants[this.variant]!.sha256; }
  get tokens(): readonly string[] { return this.manifest.tokens; }
  get blankIndex(): number { return this.manifest.blank; }
  get frameShiftSec(): number { return this.manifest.frameShiftSamples / this.manifest.sampleRate; }
  get computeSeconds(): number { return this.compute; }

  /** Log-probs for a whole buffer of 16 kHz PCM, [frames x tokens]. */
  async run(pcm: Float32Array): Promise<{ data: Float32Array; frames: number }> {
    // Too short for one output frame: the graph's convolutions would have nothing to work on.
    if (framesFor(this.manifest, pcm.length) === 0) return { data: new Float32Array(0), frames: 0 };
    const t0 = process.hrtime.bigint();
    const input = new ort.Tensor('float32', pcm, [1, pcm.length]);
    const out = await this.session.run({ [this.manifest.input.name]: input });
    this.compute += Number(process.hrtime.bigint() - t0) / 1e9;
    const t = out[this.manifest.output.name]!;
    const frames = t.dims[1] ?? 0;
    return { data: t.data as Float32Array, frames };
  }

  createStream(): AcousticStream {
    return new ChunkedStream(this, this.manifest, this.chunkFrames);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Streams one segment: keeps its audio, and each time `chunkFrames` more frames are final
 * (their right context has arrived) runs the model over those frames plus their left context.
 * The output is identical to one run over the whole segment.
 */
class ChunkedStream implements AcousticStream {
  private audio = new Float32Array(16000 * 4);
  private length = 0;
  private emitted = 0;

  constructor(private readonly model: OnnxAcousticModel, private readonly m: ModelManifest, private readonly chunkFrames: number) {}

  async accept(samples: Float32Array): Promise<FrameLogProbs | null> {
    this.append(samples);
    const final = framesFor(this.m, this.length) - this.m.context.rightFrames;
    if (final - this.emitted < this.chunkFrames) return null;
    return this.compute(final);
  }

  async finish(): Promise<FrameLogProbs | null> {
    const all = framesFor(this.m, this.length);
    if (all <= this.emitted) return null;
    return this.compute(all);
  }

  private append(samples: Float32Array): void {
    if (this.length + samples.length > this.audio.length) {
      const grown = new Float32Array(Math.max(this.audio.length * 2, this.length + samples.length));
      grown.set(this.audio.subarray(0, this.length));
      this.audio = grown;
    }
    this.audio.set(samples, this.length);
    this.length += samples.length;
  }

  private async compute(upTo: number): Promise<FrameLogProbs | null> {
    const from = Math.max(0, this.emitted - this.m.context.leftFrames);
    const startSample = from * this.m.frameShiftSamples;
    const { data, frames } = await this.model.run(this.audio.subarray(startSample, this.length));
    const first = this.emitted - from;
    const last = Math.min(upTo - from, frames);
    if (last <= first) return null;
    const v = this.m.tokens.length;
    const result: FrameLogProbs = {
      data: data.slice(first * v, last * v),
      frames: last - first,
      tokens: v,
      startFrame: this.emitted,
    };
    this.emitted += last - first;
    return result;
  }
}
