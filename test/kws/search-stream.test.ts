import t from 'tap';
import { KeywordSearch } from '../../src/kws/search.js';
import type { Detection, KeywordSpec } from '../../src/kws/types.js';
import { ARPABET_PHONES } from '../../src/model/phones.js';
import type { FrameLogProbs } from '../../src/model/types.js';
import { BLANK, FRAME_SEC, keyword, PosteriorBuilder, rng, slice, TOKENS } from './search-posteriors.js';

const LEAK = ['L', 'IY', 'K'];
const OIL_LEAK = ['OY', 'L', 'L', 'IY', 'K'];
const VOCAB: KeywordSpec[] = [
  keyword('bearing', [['B', 'EH', 'R', 'IH', 'NG']]),
  keyword('oil leak', [OIL_LEAK]),
  keyword('leak', [LEAK]),
  keyword('gear', [['G', 'IH', 'R']], { threshold: 0.3 }),
  keyword('squeal', [['S', 'K', 'W', 'IY', 'L']], { threshold: 0.4 }),
  keyword('rattle', [['R', 'AE', 'T', 'AH', 'L']]),
];

function search(keywords: KeywordSpec[] = VOCAB): KeywordSearch {
  return new KeywordSearch({ keywords, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC });
}

/** Feeds one segment in pieces of the given sizes (cycled). */
function feed(s: KeywordSearch, frames: FrameLogProbs, sizes: number[], segmentStartSec = 0): Detection[] {
  s.startSegment('seg', segmentStartSec);
  const out: Detection[] = [];
  for (let at = 0, i = 0; at < frames.frames; i++) {
    const to = Math.min(frames.frames, at + sizes[i % sizes.length]);
    out.push(...s.accept(slice(frames, at, to)));
    at = to;
  }
  return [...out, ...s.endSegment()];
}

/** A long stretch of babble with the vocabulary (some noisy, some repeated) spread through it. */
function speech(seed: number): FrameLogProbs {
  const random = rng(seed);
  const b = new PosteriorBuilder(random).blank(10);
  for (let i = 0; i < 24; i++) {
    b.babble(3 + Math.floor(random() * 8));
    const term = VOCAB[Math.floor(random() * VOCAB.length)].pronunciations[0];
    b.phones(term, undefined, random() < 0.4);
    if (random() < 0.3) b.phones(term); // quick repeat, inside the refractory time
    b.blank(Math.floor(random() * 4));
  }
  return b.blank(10).build({ target: 0.35, competitor: 0.6, rate: 0.5 });
}

t.test('chunk boundaries do not change the detections', async (t) => {
  for (const seed of [11, 12, 13]) {
    const frames = speech(seed);
    const whole = feed(search(), frames, [frames.frames], 3);
    t.ok(whole.length >= 10, `seed ${seed}: ${whole.length} detections in one call`);
    for (const sizes of [[1], [7], [3, 17, 1, 50], [64]]) {
      t.same(feed(search(), frames, sizes, 3), whole, `seed ${seed}: pieces of ${sizes.join('/')} frames`);
    }
  }
});

t.test('detections are ordered, non-overlapping and over threshold', async (t) => {
  const detections = feed(search(), speech(14), [25]);
  for (let i = 0; i < detections.length; i++) {
    const d = detections[i];
    t.ok(d.confidence >= d.threshold && d.confidence <= 1, `${d.term} ${d.confidence} >= ${d.threshold}`);
    if (i > 0) t.ok(detections[i - 1].end <= d.start, `${detections[i - 1].term} ends before ${d.term} starts`);
  }
});

t.test('a permissive search over flat posteriors still reports as it goes', async (t) => {
  // Threshold 0: every term fires everywhere and candidates overlap in one long chain.
  const random = rng(18);
  const frames = 50 * 20;
  const data = new Float32Array(frames * TOKENS.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.log(0.5 + random()) - Math.log(TOKENS.length);
  const loose = new KeywordSearch({ keywords: VOCAB.map((k) => ({ ...k, threshold: 0 })), tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC });
  loose.startSegment('flat', 0);
  const early: Detection[] = [];
  for (let at = 0; at < frames; at += 50) early.push(...loose.accept(slice({ data, frames, tokens: TOKENS.length, startFrame: 0 }, at, at + 50)));
  const all = [...early, ...loose.endSegment()];
  t.ok(early.length > 0 && early.length >= all.length / 2, `${early.length} of ${all.length} detections before the segment ended`);
  t.ok(early.every((d) => d.end <= 20), 'all inside the audio');
  for (let i = 1; i < all.length; i++) t.ok(all[i - 1].end <= all[i].start, 'never overlapping');
});

t.test('refractory time: the same term is not reported twice in quick succession', async (t) => {
  const quick = new PosteriorBuilder(rng(15)).blank(4).phones(LEAK).blank(10).phones(LEAK).blank(10);
  t.same(feed(search(), quick.build(), [9]).map((d) => d.term), ['leak'], 'repeat 0.2 s later is suppressed');
  const spaced = new PosteriorBuilder(rng(15)).blank(4).phones(LEAK).blank(60).phones(LEAK).blank(10);
  t.same(feed(search(), spaced.build(), [9]).map((d) => d.term), ['leak', 'leak'], 'repeat 1.2 s later is reported');
  const s = search();
  const once = new PosteriorBuilder(rng(15)).blank(4).phones(LEAK).blank(5).build();
  t.equal(feed(s, once, [100], 10).length, 1);
  t.equal(feed(s, once, [100], 10.5).length, 0, 'applies across segments');
  t.equal(feed(s, once, [100], 12).length, 1);
});

t.test('new segments start clean', async (t) => {
  // The first half of "oil leak" at the end of one segment must not join the rest in the next.
  const s = search();
  feed(s, new PosteriorBuilder(rng(16)).blank(3).phones(['OY', 'L']).build(), [100]);
  const rest = feed(s, new PosteriorBuilder(rng(16)).phones(LEAK).blank(6).build(), [100], 5);
  t.same(rest.map((d) => d.term), ['leak']);
});

t.test('throughput with 200 keywords (printed, not asserted)', async (t) => {
  const random = rng(17);
  const keywords = Array.from({ length: 200 }, (_, i) => {
    const phones = Array.from({ length: 3 + Math.floor(random() * 7) }, () => ARPABET_PHONES[Math.floor(random() * ARPABET_PHONES.length)]);
    return keyword(`term${i}`, [phones]);
  });
  const b = new PosteriorBuilder(random).blank(5);
  while (b.frames < 50 * 60) b.babble(20).phones(keywords[Math.floor(random() * 200)].pronunciations[0]);
  const frames = b.build({ target: 0.35, competitor: 0.6, rate: 0.3 });
  const s = new KeywordSearch({ keywords, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC });
  feed(s, frames, [25]); // warm-up
  const started = process.hrtime.bigint();
  const detections = feed(s, frames, [25], 1000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const seconds = frames.frames * FRAME_SEC;
  t.comment(`${s.tree.nodeCount} trie nodes; ${seconds.toFixed(0)} s of frames in ${ms.toFixed(1)} ms = ${(ms / seconds).toFixed(3)} ms per audio second; ${detections.length} detections`);
  t.ok(detections.length > 0);
});
