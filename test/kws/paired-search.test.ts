/**
 * The paired keyword search (model.phones = both): a term is detected when both models hear it
 * where it was said; speech only one of them takes for the term does not pass; the combined score is
 * what the score sink (calibration) sees; pieces of any size give the same detections.
 */
import t from 'tap';
import { PAIR_FLOOR, PAIR_WEIGHT_A, PairedKeywordSearch } from '../../src/kws/paired-search.js';
import { KeywordSearch } from '../../src/kws/search.js';
import type { Detection, ScoreSink, TermScore } from '../../src/kws/types.js';
import type { FrameLogProbs } from '../../src/model/types.js';
import { BLANK, FRAME_SEC, keyword, PosteriorBuilder, rng, TOKENS } from './search-posteriors.js';

const BEARING = ['B', 'EH', 'R', 'IH', 'NG'];
const GRINDING = ['G', 'R', 'AY', 'N', 'D', 'IH', 'NG'];
const VOCAB = [keyword('bearing', [BEARING]), keyword('grinding', [GRINDING])];

/** Two models' frames, a's block then b's, as PairedPhoneModel gives them. */
function pair(a: FrameLogProbs, b: FrameLogProbs): FrameLogProbs {
  const V = a.tokens, n = Math.max(a.frames, b.frames);
  const data = new Float32Array(2 * n * V);
  const blank = new Float32Array(V).fill(-30);
  blank[BLANK] = 0;
  for (let f = 0; f < n; f++) {
    data.set(f < a.frames ? a.data.subarray(f * V, (f + 1) * V) : blank, f * V);
    data.set(f < b.frames ? b.data.subarray(f * V, (f + 1) * V) : blank, (n + f) * V);
  }
  return { data, frames: n, tokens: V, channels: 2, startFrame: 0 };
}

/** Frames [from, to) of a paired block as their own paired block. */
function slicePair(block: FrameLogProbs, from: number, to: number): FrameLogProbs {
  const V = block.tokens, n = block.frames;
  const data = new Float32Array(2 * (to - from) * V);
  data.set(block.data.subarray(from * V, to * V), 0);
  data.set(block.data.subarray((n + from) * V, (n + to) * V), (to - from) * V);
  return { data, frames: to - from, tokens: V, channels: 2, startFrame: from };
}

function run(frames: FrameLogProbs, step: number, scores?: ScoreSink): Detection[] {
  const s = new PairedKeywordSearch({ keywords: VOCAB, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC, scores });
  s.startSegment('seg-1', 10);
  const out: Detection[] = [];
  for (let f = 0; f < frames.frames; f += step) out.push(...s.accept(slicePair(frames, f, Math.min(frames.frames, f + step))));
  out.push(...s.endSegment());
  return out;
}

// Model a hears "bearing" then "grinding"; model b hears "bearing" in the same place but babble
// where a heard "grinding" (a false alarm of model a's alone), and "grinding" later where a heard babble.
const a = new PosteriorBuilder(rng(1)).blank(10).phones(BEARING, 'bearing').blank(20).phones(GRINDING, 'grinding').blank(20).babble(7).blank(20).build();
const b = new PosteriorBuilder(rng(2)).blank(10).phones(BEARING, 'bearing').blank(20).babble(7, GRINDING).blank(20).phones(GRINDING).blank(20).build();

t.test('detected where both models hear the term, not where only one does', async (t) => {
  const dets = run(pair(a, b), 1_000_000);
  t.same(dets.map((d) => d.term), ['bearing'], 'only the term both heard');
  t.ok(dets[0]!.confidence > 0.8, `high combined confidence (${dets[0]!.confidence.toFixed(3)})`);
  t.equal(dets[0]!.segmentId, 'seg-1');
  t.ok(dets[0]!.start >= 10 && dets[0]!.end > dets[0]!.start, 'times from the segment start');
  t.same(run(pair(a, a), 1_000_000).map((d) => d.term), ['bearing', 'grinding'], 'with the same frames in both, both terms');
});

t.test('pieces of any size give the same detections', async (t) => {
  const whole = run(pair(a, a), 1_000_000);
  for (const step of [1, 3, 7, 25]) t.same(run(pair(a, a), step), whole, `${step} frame(s) at a time`);
});

t.test('the score sink sees the combined score: a heard alone is scored against the floor', async (t) => {
  const got: TermScore[] = [];
  run(pair(a, b), 5, { floor: 0.3, score: (s) => void got.push(s) });
  const grinding = got.filter((s) => s.term === 'grinding');
  t.ok(grinding.length > 0, 'the occurrence a alone heard is reported to the sink');
  const best = Math.max(...grinding.map((s) => s.score));
  t.ok(best <= PAIR_FLOOR ** (1 - PAIR_WEIGHT_A) + 1e-9, `at most 1^w · floor^(1-w) = ${(PAIR_FLOOR ** (1 - PAIR_WEIGHT_A)).toFixed(3)} (got ${best.toFixed(3)})`);
  t.ok(got.some((s) => s.term === 'bearing' && s.score > 0.8), 'the term both heard scores high');
});

t.test('calibrated thresholds apply to the combined score', async (t) => {
  const s = new PairedKeywordSearch({ keywords: VOCAB, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC, thresholds: new Map([['grinding', 0.4]]) });
  s.startSegment('seg-2', 0);
  const dets = [...s.accept(pair(a, b)), ...s.endSegment()];
  t.same(dets.map((d) => d.term).sort(), ['bearing', 'grinding'], 'a lowered threshold lets one model\'s occurrence through');
  t.equal(dets.find((d) => d.term === 'grinding')!.threshold, 0.4);
});

t.test('frames of the wrong shape are refused', async (t) => {
  const s = new PairedKeywordSearch({ keywords: VOCAB, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC });
  s.startSegment('seg-3', 0);
  t.throws(() => s.accept(a), /frames of 1 model\(s\) with 40 tokens, 2 models of 40 expected/);
  const plain = new KeywordSearch({ keywords: VOCAB, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC });
  plain.startSegment('seg-4', 0);
  t.throws(() => plain.accept(pair(a, b)), /frames of 2 models need the paired search/, 'and the plain search refuses paired frames');
});
