import path from 'node:path';
import * as ort from './ort.js';
import { ModelLoadError, readPartManifest, readVerifiedPart } from './manifest.js';
import { EMBEDDING_DIM, EMBEDDING_SHIFT_SEC, SpeechEmbedding, type EmbeddingStream } from './speech-embedding.js';
import type { AcousticModel, AcousticStream, FrameLogProbs } from './types.js';

/** model.json of a phone head on the speech embedding (models/training/embphones). */
export interface EmbeddingPhonesManifest {
  schema: 1;
  id: string;
  version: string;
  kind: 'embedding-phones';
  /** The embedding it was trained on: only the package's (Google's) is accepted. */
  embedding: 'google';
  /** Phone frames per embedding hop (4: one per 20 ms). */
  framesPerEmbedding: number;
  input: { embeddings: string; state: string };
  output: { logProbs: string; state: string };
  /** Shape of the recurrent state carried from hop to hop. */
  state: number[];
  tokens: string[];
  blank: number;
  file: string;
  sha256: string;
  licence?: string;
}

export const EMBEDDING_PHONES_DIR = 'gearhear-embphones';
const WHAT = 'embedding phone model';

export interface EmbeddingPhonesOptions {
  dir: string;
  /** An embedding to share (with the term heads); else the model loads and owns its own. */
  embedding?: SpeechEmbedding;
  intraOpThreads?: number;
}

/**
 * The open-vocabulary phone model that stands on the speech embedding: every 80 ms hop's embedding
 * goes through a small recurrent head that carries its state, giving four 20 ms phone frames. Its
 * frames feed the same keyword search as the raw-audio phone model (gearhear-kws).
 */
export class EmbeddingPhoneModel implements AcousticModel {
  private compute = 0;

  private constructor(
    readonly manifest: EmbeddingPhonesManifest,
    private readonly session: ort.InferenceSession,
    private readonly embedding: SpeechEmbedding,
    private readonly ownsEmbedding: boolean,
  ) {}

  static async load(options: EmbeddingPhonesOptions): Promise<EmbeddingPhoneModel> {
    const file = path.join(options.dir, 'model.json');
    const manifest = await readPartManifest<EmbeddingPhonesManifest>(WHAT, file, 'reinstall the package or set model.phones=kws');
    if (manifest.kind !== 'embedding-phones' || manifest.embedding !== 'google' || !Array.isArray(manifest.tokens) ||
      !(manifest.framesPerEmbedding > 0) || !Array.isArray(manifest.state) || manifest.tokens[manifest.blank] === undefined) {
      throw new ModelLoadError(`${WHAT}: ${file} is not an embedding-phones model.json (kind, embedding 'google', tokens, blank, framesPerEmbedding, state)`);
    }
    const onnx = path.join(options.dir, manifest.file);
    const bytes = await readVerifiedPart(WHAT, onnx, file, manifest.sha256);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.intraOpThreads ?? 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
      });
    } catch (cause) {
      throw new ModelLoadError(`${WHAT}: onnxruntime could not load ${onnx}: ${(cause as Error).message}`, { cause });
    }
    const embedding = options.embedding ?? await SpeechEmbedding.load({ intraOpThreads: options.intraOpThreads });
    return new EmbeddingPhoneModel(manifest, session, embedding, !options.embedding);
  }

  get id(): string { return this.manifest.id; }
  get version(): string { return this.manifest.version; }
  get sha256(): string { return this.manifest.sha256; }
  get tokens(): readonly string[] { return this.manifest.tokens; }
  get blankIndex(): number { return this.manifest.blank; }
  get frameShiftSec(): number { return EMBEDDING_SHIFT_SEC / this.manifest.framesPerEmbedding; }
  /** The head's and (when it owns it) the embedding's compute. */
  get computeSeconds(): number { return this.compute + (this.ownsEmbedding ? this.embedding.computeSeconds : 0); }

  /** Phone log-probs of `count` embeddings [count x 96] from `state`: [count * framesPerEmbedding x tokens]. */
  async step(embeddings: Float32Array, count: number, state: Float32Array): Promise<{ data: Float32Array; state: Float32Array }> {
    const { input, output } = this.manifest;
    const t0 = performance.now();
    const out = await this.session.run({
      [input.embeddings]: new ort.Tensor('float32', embeddings, [1, count, EMBEDDING_DIM]),
      [input.state]: new ort.Tensor('float32', state, this.manifest.state),
    });
    this.compute += (performance.now() - t0) / 1000;
    return { data: out[output.logProbs]!.data as Float32Array, state: out[output.state]!.data as Float32Array };
  }

  initialState(): Float32Array {
    return new Float32Array(this.manifest.state.reduce((a, b) => a * b, 1));
  }

  createStream(): AcousticStream {
    return new EmbeddingPhoneStream(this, this.embedding.createStream());
  }

  async dispose(): Promise<void> {
    await this.session.release();
    if (this.ownsEmbedding) await this.embedding.dispose();
  }
}

/** One segment: samples in, the frames of every completed 80 ms hop out. */
class EmbeddingPhoneStream implements AcousticStream {
  private state: Float32Array;
  private frames = 0;

  constructor(private readonly model: EmbeddingPhoneModel, private readonly embeddings: EmbeddingStream) {
    this.state = model.initialState();
  }

  async accept(samples: Float32Array): Promise<FrameLogProbs | null> {
    const { data, count } = await this.embeddings.accept(samples);
    if (count === 0) return null;
    const out = await this.model.step(data, count, this.state);
    this.state = out.state;
    const frames = count * this.model.manifest.framesPerEmbedding;
    const result = { data: out.data, frames, tokens: this.model.tokens.length, startFrame: this.frames };
    this.frames += frames;
    return result;
  }

  /** A part hop at the end of a segment makes no embedding (the heads do the same). */
  async finish(): Promise<FrameLogProbs | null> {
    return null;
  }
}
