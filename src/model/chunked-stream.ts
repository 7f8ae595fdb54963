import type { AcousticStream, FrameLogProbs } from './types.js';
import { framesFor } from './frames.js';
import type { ModelManifest } from './manifest.js';
import { SegmentAudio } from './segment-audio.js';

/** Runs the whole-segment graph over a buffer of 16 kHz PCM. */
export type WholeRun = (pcm: Float32Array) => Promise<{ data: Float32Array; frames: number }>;

/**
 * Streams one segment on the whole-segment graph: keeps its audio, and each time `chunkFrames`
 * more frames are final (their right context has arrived) runs the model over those frames plus
 * their left context. The output is identical to one run over the whole segment; the price is
 * the context computed again on every run (see CachedStream for the graph with caches).
 */
export class ChunkedStream implements AcousticStream {
  private readonly audio = new SegmentAudio();
  private emitted = 0;

  constructor(private readonly run: WholeRun, private readonly m: ModelManifest, private readonly chunkFrames: number) {}

  async accept(samples: Float32Array): Promise<FrameLogProbs | null> {
    this.audio.append(samples);
    const final = framesFor(this.m, this.audio.length) - this.m.context.rightFrames;
    if (final - this.emitted < this.chunkFrames) return null;
    return this.compute(final);
  }

  async finish(): Promise<FrameLogProbs | null> {
    const all = framesFor(this.m, this.audio.length);
    if (all <= this.emitted) return null;
    return this.compute(all);
  }

  private async compute(upTo: number): Promise<FrameLogProbs | null> {
    const from = Math.max(0, this.emitted - this.m.context.leftFrames);
    const startSample = from * this.m.frameShiftSamples;
    const { data, frames } = await this.run(this.audio.view(startSample));
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
