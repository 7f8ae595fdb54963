/**
 * The daemon's listening path split in two, so the keyword search can be re-run at many thresholds
 * over one model pass: (1) gate + streamed model over a recording, keeping every segment's frames;
 * (2) the same KeywordSearch the Listener uses, over those frames.
 */
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { KeywordSearch, type KeywordSearchOptions } from '../../src/kws/search.js';
import type { Detection, KeywordSpec } from '../../src/kws/types.js';
import type { AcousticModel, FrameLogProbs } from '../../src/model/types.js';
import { createGate, type GateEvent, type GateOptions } from '../../src/vad/index.js';

export interface SegmentFrames {
  id: string;
  startSec: number;
  blocks: FrameLogProbs[];
}

export interface Posteriors {
  audioSec: number;
  speechSec: number;
  segments: SegmentFrames[];
  modelSec: number;
}

const CHUNK = SAMPLE_RATE / 10;

/** Runs the gate and the streamed model over `pcm` as the Listener does (100 ms chunks). */
export async function computePosteriors(pcm: Float32Array, model: AcousticModel, gateOptions: Partial<GateOptions> = {}): Promise<Posteriors> {
  const gate = await createGate(gateOptions);
  const segments: SegmentFrames[] = [];
  let open: { seg: SegmentFrames; stream: ReturnType<AcousticModel['createStream']> } | null = null;
  let speech = 0;
  const modelStart = model.computeSeconds;
  const handle = async (events: GateEvent[]): Promise<void> => {
    for (const ev of events) {
      if (ev.type === 'start') {
        open = { seg: { id: ev.segmentId, startSec: ev.startSample / SAMPLE_RATE, blocks: [] }, stream: model.createStream() };
      } else if (ev.type === 'audio') {
        if (!open) throw new Error(`posteriors: audio for segment ${ev.segmentId}, which is not open`);
        speech += ev.samples.length;
        const f = await open.stream.accept(ev.samples);
        if (f) open.seg.blocks.push(f);
      } else {
        if (!open) throw new Error(`posteriors: end of segment ${ev.segmentId}, which is not open`);
        const f = await open.stream.finish();
        if (f) open.seg.blocks.push(f);
        segments.push(open.seg);
        open = null;
      }
    }
  };
  try {
    for (let offset = 0; offset < pcm.length; offset += CHUNK) await handle(await gate.push({ samples: pcm.subarray(offset, offset + CHUNK), offset }));
    await handle(await gate.flush());
  } finally {
    await gate.dispose();
  }
  return { audioSec: pcm.length / SAMPLE_RATE, speechSec: speech / SAMPLE_RATE, segments, modelSec: model.computeSeconds - modelStart };
}

/** Keyword search over stored posteriors; `threshold` replaces every term's own threshold when given. */
export function searchPosteriors(
  p: Posteriors, model: AcousticModel, specs: readonly KeywordSpec[], threshold?: number, options?: Partial<KeywordSearchOptions>,
): Detection[] {
  const keywords = threshold === undefined ? specs : specs.map((s) => ({ ...s, threshold }));
  const search = new KeywordSearch({ keywords, tokens: model.tokens, blankIndex: model.blankIndex, frameShiftSec: model.frameShiftSec, options });
  const out: Detection[] = [];
  for (const seg of p.segments) {
    search.startSegment(seg.id, seg.startSec);
    for (const b of seg.blocks) out.push(...search.accept(b));
    out.push(...search.endSegment());
  }
  return out;
}
