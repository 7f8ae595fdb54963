/**
 * The calibration hook of the keyword search: a ScoreSink sees sub-threshold occurrences without
 * changing a single detection, and ThresholdOverrides replace the vocabulary's thresholds.
 */
import t from 'tap';
import { KeywordSearch } from '../../src/kws/search.js';
import { scoreKeywordOnSpan } from '../../src/kws/search-score.js';
import type { Detection, KeywordSpec, ScoreSink, TermScore, ThresholdOverrides } from '../../src/kws/types.js';
import type { FrameLogProbs } from '../../src/model/types.js';
import { BLANK, FRAME_SEC, keyword, PosteriorBuilder, rng, slice, TOKENS } from './search-posteriors.js';

const BEARING = ['B', 'EH', 'R', 'IH', 'NG'];
const OIL_LEAK = ['OY', 'L', 'L', 'IY', 'K'];
const LEAK = ['L', 'IY', 'K'];
const GRINDING = ['G', 'R', 'AY', 'N', 'D', 'IH', 'NG'];
const NOISE = { target: 0.35, competitor: 0.6, rate: 0.5 };

const VOCAB: KeywordSpec[] = [
  keyword('bearing', [BEARING]),
  keyword('oil leak', [OIL_LEAK]),
  keyword('leak', [LEAK]),
  keyword('grinding', [GRINDING, ['G', 'R', 'AY', 'N', 'IH', 'NG']]),
];

class Collect implements ScoreSink {
  readonly got: TermScore[] = [];
  constructor(readonly floor: number) {}
  score(s: TermScore): void { this.got.push(s); }
}

function search(keywords: KeywordSpec[], extra: { scores?: ScoreSink; thresholds?: ThresholdOverrides } = {}): KeywordSearch {
  return new KeywordSearch({ keywords, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC, ...extra });
}

/** Feeds a segment in pieces of `step` frames; detections in the order they came out. */
function run(s: KeywordSearch, frames: FrameLogProbs, step = frames.frames): Detection[] {
  return runTimed(s, frames, step).map((x) => x.detection);
}

/** The same, with the piece after which each detection came out (latency). */
function runTimed(s: KeywordSearch, frames: FrameLogProbs, step: number): Array<{ piece: number; detection: Detection }> {
  s.startSegment('seg', 3);
  const out: Array<{ piece: number; detection: Detection }> = [];
  let piece = 0;
  for (let f = 0; f < frames.frames; f += step, piece++) {
    for (const detection of s.accept(slice(frames, f, Math.min(frames.frames, f + step)))) out.push({ piece, detection });
  }
  for (const detection of s.endSegment()) out.push({ piece, detection });
  return out;
}

/** Babble with terms in it, some said noisily (scores below the thresholds), some cleanly. */
function stream(seed: number): FrameLogProbs {
  const r = rng(seed);
  const b = new PosteriorBuilder(r).blank(3);
  const said = [BEARING, OIL_LEAK, LEAK, GRINDING];
  for (let i = 0; i < 12; i++) {
    b.babble(3 + Math.floor(r() * 8));
    if (r() < 0.7) b.phones(said[Math.floor(r() * said.length)]!, undefined, r() < 0.6);
  }
  return b.blank(4).build(NOISE);
}

t.test('a score sink changes no detection, while it sees occurrences below the thresholds', async (t) => {
  let below = 0;
  let detections = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const frames = stream(seed);
    const plainTimed = runTimed(search(VOCAB), frames, 3);
    const plain = plainTimed.map((x) => x.detection);
    const sink = new Collect(0.05);
    const observed = runTimed(search(VOCAB, { scores: sink }), frames, 3);
    t.same(observed, plainTimed, `seed ${seed}: same detections, out at the same time, with the sink`);
    detections += plain.length;
    below += sink.got.filter((s) => s.score < 0.5).length;
    // Every detection is among what the sink saw, with the same score and span.
    for (const d of plain) {
      t.ok(sink.got.some((s) => s.term === d.term && s.score === d.confidence && s.start === d.start && s.end === d.end), `seed ${seed}: ${d.term} at ${d.start} seen by the sink`);
    }
    t.ok(sink.got.every((s) => s.score >= 0.05 && s.segmentId === 'seg'));
  }
  t.ok(detections > 20, `${detections} detections in the streams`);
  t.ok(below > 40, `${below} occurrences below the threshold reached the sink`);
});

t.test('the sink reports a noisy occurrence with the same score as span scoring', async (t) => {
  const b = new PosteriorBuilder(rng(5)).blank(4).phones(BEARING, 'kw', true).blank(8);
  const frames = b.build({ target: 0.3, competitor: 0.65, rate: 0.8 });
  const span = scoreKeywordOnSpan(frames, TOKENS, BLANK, BEARING)!;
  t.ok(span.confidence < 0.5 && span.confidence > 0.1, `span confidence ${span.confidence}`);
  const sink = new Collect(0.1);
  t.same(run(search([keyword('bearing', [BEARING])], { scores: sink }), frames), [], 'below the threshold: no detection');
  const best = Math.max(...sink.got.filter((s) => s.term === 'bearing').map((s) => s.score));
  t.ok(Math.abs(best - span.confidence) < 1e-9, `sink ${best} = span ${span.confidence}`);
});

t.test('threshold overrides replace the vocabulary threshold, short-term raise included', async (t) => {
  const b = new PosteriorBuilder(rng(6)).blank(4).phones(BEARING, 'b', true).blank(6).phones(LEAK, 'l').blank(6);
  const frames = b.build({ target: 0.3, competitor: 0.65, rate: 0.6 });
  const bearing = scoreKeywordOnSpan(frames, TOKENS, BLANK, BEARING, { toFrame: b.marks.get('b')!.endFrame + 3 })!.confidence;
  t.ok(bearing > 0.2 && bearing < 0.9, `noisy bearing scores ${bearing}`);
  const specs = [keyword('bearing', [BEARING], { threshold: 0.95 }), keyword('leak', [LEAK], { threshold: 0.96 })];
  // 'leak' has 3 phones: the short-term raise makes its vocabulary threshold 0.99; the clean one scores 1.0.
  t.same(run(search(specs), frames).map((d) => d.term), ['leak'], 'vocabulary thresholds: only the clean leak');
  const lowered = run(search(specs, { thresholds: new Map([['bearing', bearing - 0.01], ['leak', 0.2]]) }), frames);
  t.same(lowered.map((d) => d.term), ['bearing', 'leak'], 'a lowered override lets the noisy bearing through');
  t.equal(lowered[1]!.threshold, 0.2, 'the override is final: no short-term raise on top');
  const raised = run(search(specs, { thresholds: new Map([['bearing', bearing + 0.01]]) }), frames);
  t.same(raised.map((d) => d.term), ['leak'], 'just above its score: not reported');
  t.throws(() => search(specs, { thresholds: new Map([['bearing', 1.5]]) }), /bearing.*calibrated threshold 1.5 is outside/);
});
