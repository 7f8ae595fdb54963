import * as ort from './ort.js';
import path from 'node:path';
import type { AcousticModel, AcousticStream } from './types.js';
import { ModelLoadError, readManifest, readVerifiedModelFile, type ModelManifest, type ModelVariant } from './manifest.js';
import { CachedStream } from './cached-stream.js';
import { ChunkedStream } from './chunked-stream.js';
import { framesFor } from './frames.js';

export { framesFor } from './frames.js';

/**
 * How segments are streamed: 'cache' runs the streaming graph (explicit caches, each frame computed
 * once); 'recompute' runs the whole-segment graph on each chunk with its context again; 'auto' is
 * 'cache' when the model ships a streaming graph for the variant.
 */
export type StreamingMode = 'auto' | 'cache' | 'recompute';

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
  streaming?: StreamingMode;
}

export const MODEL_DEFAULTS = { intraOpThreads: 1, chunkFrames: 10, streaming: 'auto' } as const;

export class OnnxAcousticModel implements AcousticModel {
  private compute = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    /** The streaming graph's session, when segments stream with caches. */
    private readonly streamSession: ort.InferenceSession | null,
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
    const mode = options.streaming ?? MODEL_DEFAULTS.streaming;
    const useCache = mode === 'cache' || (mode === 'auto' && manifest.streaming?.variants[variant] !== undefined);
    const session = await createSession(bytes, threads, path.join(options.dir, manifest.variants[variant]!.file));
    checkNames(manifest, session, [manifest.input.name], [manifest.output.name]);
    let streamSession: ort.InferenceSession | null = null;
    if (useCache) {
      const g = manifest.streaming;
      const streamBytes = await readVerifiedModelFile(options.dir, manifest, variant, 'streaming');
      streamSession = await createSession(streamBytes, threads, path.join(options.dir, g!.variants[variant]!.file), true);
      checkNames(manifest, streamSession, [manifest.input.name, g!.mask, ...g!.states.map((x) => x.input)],
        [manifest.output.name, ...g!.states.map((x) => x.output)]);
    }
    const frameMs = (manifest.frameShiftSamples / manifest.sampleRate) * 1000;
    const chunkFrames = options.chunkFrames ?? (options.chunkMs ? Math.max(1, Math.round(options.chunkMs / frameMs)) : MODEL_DEFAULTS.chunkFrames);
    return new OnnxAcousticModel(session, streamSession, manifest, variant, chunkFrames);
  }

  get id(): string { return this.manifest.id; }
  get version(): string { return this.manifest.version; }
  get sha256(): string { return this.manifest.variants[this.variant]!.sha256; }
  get tokens(): readonly string[] { return this.manifest.tokens; }
  get blankIndex(): number { return this.manifest.blank; }
  get frameShiftSec(): number { return this.manifest.frameShiftSamples / this.manifest.sampleRate; }
  get computeSeconds(): number { return this.compute; }
  /** 'cache' when segments stream on the streaming graph, else 'recompute'. */
  get streaming(): 'cache' | 'recompute' { return this.streamSession ? 'cache' : 'recompute'; }

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
    const graph = this.manifest.streaming;
    const streamSession = this.streamSession;
    if (streamSession && graph) {
      const run = async (feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> => {
        const t0 = process.hrtime.bigint();
        const out = await streamSession.run(feeds);
        this.compute += Number(process.hrtime.bigint() - t0) / 1e9;
        return out;
      };
      return new CachedStream(run, this.manifest, graph, this.chunkFrames);
    }
    return new ChunkedStream((pcm) => this.run(pcm), this.manifest, this.chunkFrames);
  }

  async dispose(): Promise<void> {
    await this.session.release();
    await this.streamSession?.release();
  }
}

/**
 * `fixedShapes`: the streaming graph sees the same shapes call after call, so a memory arena and
 * memory patterns pay (~12 % per call, measured); the whole-segment graph sees a new length every
 * call, where they would only hold on to RAM.
 */
async function createSession(bytes: Uint8Array, threads: number, file: string, fixedShapes = false): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: fixedShapes,
      enableMemPattern: fixedShapes,
    });
  } catch (err) {
    throw new ModelLoadError(`onnxruntime could not load ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function checkNames(m: ModelManifest, session: ort.InferenceSession, inputs: string[], outputs: string[]): void {
  const missing = [...inputs.filter((n) => !session.inputNames.includes(n)), ...outputs.filter((n) => !session.outputNames.includes(n))];
  if (missing.length > 0) {
    throw new ModelLoadError(`model ${m.id}: graph has inputs [${session.inputNames.join(', ')}] and outputs ` +
      `[${session.outputNames.join(', ')}], but model.json names ${missing.join(', ')}`);
  }
}
