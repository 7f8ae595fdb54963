/** Per-frame log-probabilities over the model's tokens, row-major [frames x tokens]. */
export interface FrameLogProbs {
  data: Float32Array;
  frames: number;
  tokens: number;
  /**
   * Models whose frames `data` holds (default 1): `channels` blocks of [frames x tokens], one after
   * the other, one per model (PairedPhoneModel, for the paired keyword search).
   */
  channels?: number;
  /** Index (in frames since the segment started) of the first row. */
  startFrame: number;
}

/** A streaming pass over one speech segment: feed chunks, get frames as soon as they are final. */
export interface AcousticStream {
  accept(samples: Float32Array): Promise<FrameLogProbs | null>;
  finish(): Promise<FrameLogProbs | null>;
}

export interface AcousticModel {
  readonly id: string;
  readonly version: string;
  readonly sha256: string;
  /** Token list; index 0..n-1 matches the model's output columns. */
  readonly tokens: readonly string[];
  readonly blankIndex: number;
  /** Seconds per output frame. */
  readonly frameShiftSec: number;
  /** Models whose frames each block holds (default 1; FrameLogProbs.channels). */
  readonly channels?: number;
  createStream(): AcousticStream;
  /** Seconds of model compute so far (for real-time factor in health). */
  readonly computeSeconds: number;
  dispose(): Promise<void>;
}
