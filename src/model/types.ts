/** Per-frame log-probabilities over the model's tokens, row-major [frames x tokens]. */
export interface FrameLogProbs {
  data: Float32Array;
  frames: number;
  tokens: number;
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
  /**
   * Rows per frame (default 1). 2: two models' rows side by side, each `tokens` wide
   * (PairedPhoneModel), for the paired keyword search.
   */
  readonly channels?: number;
  createStream(): AcousticStream;
  /** Seconds of model compute so far (for real-time factor in health). */
  readonly computeSeconds: number;
  dispose(): Promise<void>;
}
