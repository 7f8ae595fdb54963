import * as ort from './ort.js';
import type { AcousticStream, FrameLogProbs } from './types.js';
import { framesFor } from './frames.js';
import type { ModelManifest, StreamingGraph } from './manifest.js';
import { SegmentAudio } from './segment-audio.js';

/** One call of the streaming graph: feeds in, every output out. */
export type StreamingRun = (feeds: Record<string, ort.Tensor>) => Promise<Record<string, ort.Tensor>>;

/** The segment's end while its length is not yet known. */
const OPEN_END = Number.POSITIVE_INFINITY;

/**
 * Streams one segment on the streaming graph: each call computes only new frames, carrying the
 * network's state in explicit caches. Frames come out `delayFrames` behind the audio fed (the
 * model's look-ahead); `finish` flushes them with the segment's true end, so the concatenated
 * output equals one run of the whole-segment graph.
 */
export class CachedStream implements AcousticStream {
  private readonly audio = new SegmentAudio();
  /** Next frame to feed to the graph, and frames returned so far. */
  private next = 0;
  private emitted = 0;
  private states: ort.Tensor[];

  constructor(
    private readonly run: StreamingRun,
    private readonly m: ModelManifest,
    private readonly graph: StreamingGraph,
    private readonly chunkFrames: number,
  ) {
    this.states = graph.states.map((s) => new ort.Tensor('float32', new Float32Array(s.shape.reduce((a, b) => a * b, 1)), s.shape));
  }

  async accept(samples: Float32Array): Promise<FrameLogProbs | null> {
    // Only audio from the next frame to feed on is still needed.
    this.audio.append(samples, this.next * this.m.frameShiftSamples);
    const ready = this.framesWithAudio() - this.next;
    if (ready < this.chunkFrames) return null;
    return this.step(ready, OPEN_END);
  }

  async finish(): Promise<FrameLogProbs | null> {
    const total = framesFor(this.m, this.audio.length);
    const frames = total + this.graph.delayFrames - this.next;
    if (total <= this.emitted || frames <= 0) return null;
    return this.step(frames, total);
  }

  /** Frames whose samples (and the window's tail past them) have all arrived. */
  private framesWithAudio(): number {
    const shift = this.m.frameShiftSamples;
    return Math.max(0, Math.floor((this.audio.length - this.graph.tailSamples) / shift));
  }

  private async step(frames: number, end: number): Promise<FrameLogProbs | null> {
    const shift = this.m.frameShiftSamples;
    const from = this.next * shift;
    const pcm = new Float32Array(frames * shift + this.graph.tailSamples); // zeros past the end of the audio
    pcm.set(this.audio.view(from, from + pcm.length));
    // 1 for frames next - delay .. next + frames - 1 that lie inside the segment [0, end).
    const delay = this.graph.delayFrames;
    const mask = new Float32Array(frames + delay);
    for (let i = 0; i < mask.length; i++) mask[i] = this.next - delay + i >= 0 && this.next - delay + i < end ? 1 : 0;
    const feeds: Record<string, ort.Tensor> = {
      [this.m.input.name]: new ort.Tensor('float32', pcm, [1, pcm.length]),
      [this.graph.mask]: new ort.Tensor('float32', mask, [1, 1, mask.length]),
    };
    this.graph.states.forEach((s, i) => { feeds[s.input] = this.states[i]!; });
    const out = await this.run(feeds);
    this.states = this.graph.states.map((s) => out[s.output]!);
    const logProbs = out[this.m.output.name]!;
    // Output row r is frame next - delay + r; keep frames not yet returned and before the end.
    const firstTime = this.next - this.graph.delayFrames;
    this.next += frames;
    const first = Math.max(0, this.emitted - firstTime);
    const last = Math.min(frames, end - firstTime);
    if (last <= first) return null;
    const v = this.m.tokens.length;
    const result: FrameLogProbs = { data: (logProbs.data as Float32Array).slice(first * v, last * v), frames: last - first, tokens: v, startFrame: this.emitted };
    this.emitted += last - first;
    return result;
  }
}
