import t from 'tap';
import { Segmenter, type SegmenterOptions } from '../../src/vad/segmenter.js';
import type { GateEvent } from '../../src/vad/types.js';
import { eventProblems } from './fixtures.js';

const FRAME = 512;

/** Pure segmentation logic on frames whose samples are their own indices (so audio can be checked exactly). */
function segment(probabilities: number[], overrides: Partial<SegmenterOptions> = {}): { events: GateEvent[]; input: Float32Array; eventsAtFrame: number[] } {
  let counter = 0;
  const segmenter = new Segmenter({
    threshold: 0.5,
    releaseThreshold: 0.35,
    preRollSamples: 4800,
    hangoverSamples: 4800,
    minSpeechSamples: 2400,
    maxSegmentSamples: 160000,
    newSegmentId: (start) => `s${++counter}@${start}`,
    ...overrides,
  });
  const input = Float32Array.from({ length: probabilities.length * FRAME }, (_, i) => i);
  const events: GateEvent[] = [];
  const eventsAtFrame: number[] = [];
  probabilities.forEach((p, frame) => {
    const out = segmenter.pushFrame(input.slice(frame * FRAME, (frame + 1) * FRAME), frame * FRAME, p);
    for (const _ of out) eventsAtFrame.push(frame);
    events.push(...out);
  });
  events.push(...segmenter.flush(new Float32Array(0)));
  return { events, input, eventsAtFrame };
}

const frames = (n: number, p: number): number[] => Array<number>(n).fill(p);
const starts = (events: GateEvent[]) => events.filter((e) => e.type === 'start');
const ends = (events: GateEvent[]) => events.filter((e) => e.type === 'end');

t.test('a blip shorter than the minimum is dropped', async (t) => {
  const { events } = segment([...frames(20, 0), ...frames(4, 0.9), ...frames(30, 0)]);
  t.same(events, []);
});

t.test('start waits for the minimum, then pre-roll and held audio come in order', async (t) => {
  const { events, input, eventsAtFrame } = segment([...frames(20, 0), ...frames(10, 0.9), ...frames(30, 0)]);
  t.same(eventProblems(events, input), []);
  const [start] = starts(events);
  t.equal(start?.startSample, 20 * FRAME - 4800, 'starts one pre-roll before the first speech frame');
  t.equal(eventsAtFrame[0], 24, 'start is reported on the fifth speech frame (160 ms >= 150 ms)');
  t.match(ends(events), [{ reason: 'silence', endSample: 30 * FRAME + Math.ceil(4800 / FRAME) * FRAME }]);
});

t.test('probabilities between release and threshold keep a segment open but do not open one', async (t) => {
  const keep = segment([...frames(10, 0), ...frames(6, 0.9), ...frames(40, 0.4), ...frames(20, 0)]);
  t.match(ends(keep.events), [{ endSample: (10 + 6 + 40 + 10) * FRAME }]);
  t.same(segment([...frames(10, 0), ...frames(40, 0.4)]).events, []);
});

t.test('pre-roll never reaches back into the previous segment', async (t) => {
  const { events, input } = segment([...frames(10, 0), ...frames(10, 0.9), ...frames(11, 0), ...frames(10, 0.9), ...frames(20, 0)]);
  t.same(eventProblems(events, input), []);
  const [first, second] = ends(events);
  t.equal(starts(events).length, 2);
  t.equal(starts(events)[1]?.startSample, first?.endSample, 'second starts where the first ended');
  t.ok(second);
});

t.test('long speech is split at the maximum and continues in a new segment', async (t) => {
  const { events, input } = segment([...frames(10, 0), ...frames(200, 0.9), ...frames(20, 0)], { maxSegmentSamples: 16000 });
  t.same(eventProblems(events, input), []);
  const closed = ends(events);
  const opened = starts(events);
  t.ok(closed.length >= 6, `${closed.length} segments`);
  t.ok(closed.slice(0, -1).every((e) => e.reason === 'max-length'));
  t.ok((closed.at(-1)?.endSample ?? 0) >= 210 * FRAME, 'the last segment reaches the end of speech');
  closed.forEach((end, i) => t.ok(end.endSample - opened[i]!.startSample <= 16000, `segment ${i} within the maximum`));
  for (let i = 1; i < opened.length; i++) t.equal(opened[i]!.startSample, closed[i - 1]!.endSample, `segment ${i} continues without a gap`);
});
