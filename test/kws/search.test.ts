import t from 'tap';
import { KeywordSearch, type KeywordSearchOptions } from '../../src/kws/search.js';
import { scoreKeywordOnSpan } from '../../src/kws/search-score.js';
import type { Detection, KeywordSpec } from '../../src/kws/types.js';
import type { FrameLogProbs } from '../../src/model/types.js';
import { BLANK, FRAME_SEC, keyword, PosteriorBuilder, rng, TOKENS } from './search-posteriors.js';

const BEARING = ['B', 'EH', 'R', 'IH', 'NG'];
const OIL_LEAK = ['OY', 'L', 'L', 'IY', 'K'];
const LEAK = ['L', 'IY', 'K'];
const OIL = ['OY', 'L'];
const NOISE = { target: 0.35, competitor: 0.6, rate: 0.5 };

const VOCAB: KeywordSpec[] = [
  keyword('bearing', [BEARING]),
  keyword('oil leak', [OIL_LEAK]),
  keyword('leak', [LEAK]),
  keyword('oil', [OIL]),
  keyword('grinding', [['G', 'R', 'AY', 'N', 'D', 'IH', 'NG']]),
];

function search(keywords: KeywordSpec[] = VOCAB, options: Partial<KeywordSearchOptions> = {}): KeywordSearch {
  return new KeywordSearch({ keywords, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC, options });
}

/** Runs one segment in a single call; detections from accept() and endSegment() together. */
function run(s: KeywordSearch, frames: FrameLogProbs, segmentStartSec = 0): Detection[] {
  s.startSegment('seg', segmentStartSec);
  return [...s.accept(frames), ...s.endSegment()];
}

function terms(detections: Detection[]): string[] {
  return detections.map((d) => d.term);
}

t.test('finds a term in babble at the right time', async (t) => {
  const b = new PosteriorBuilder(rng(1)).blank(5).babble(12, BEARING).phones(BEARING, 'kw').babble(10, BEARING).blank(5);
  const mark = b.marks.get('kw')!;
  const detections = run(search(), b.build(), 10);
  t.same(terms(detections), ['bearing']);
  const [d] = detections;
  t.equal(d.confidence, 1, 'the keyword path is the best path');
  t.equal(d.segmentId, 'seg');
  t.ok(Math.abs(d.start - (10 + mark.startFrame * FRAME_SEC)) <= 2 * FRAME_SEC, `start ${d.start}`);
  t.ok(Math.abs(d.end - (10 + (mark.endFrame + 1) * FRAME_SEC)) <= 2 * FRAME_SEC, `end ${d.end}`);
});

t.test('reports a term once it has ended, before the segment ends', async (t) => {
  const b = new PosteriorBuilder(rng(2)).blank(3).phones(BEARING, 'kw').blank(4).babble(30, BEARING);
  const s = search();
  s.startSegment('seg', 0);
  const early = s.accept(b.build());
  t.same(terms(early), ['bearing'], 'reported from accept()');
  t.same(s.endSegment(), [], 'nothing left for the end');
});

t.test('noisy speech scores lower than clean speech, the same in search and span scoring', async (t) => {
  const clean = new PosteriorBuilder(rng(3)).blank(4).phones(BEARING, 'kw').blank(6);
  const noisy = new PosteriorBuilder(rng(3)).blank(4).phones(BEARING, 'kw', true).blank(6);
  const low = (): KeywordSearch => search([keyword('bearing', [BEARING], { threshold: 0.05 })]);
  const [cleanHit] = run(low(), clean.build());
  const noisyFrames = noisy.build(NOISE);
  const [noisyHit] = run(low(), noisyFrames);
  t.equal(cleanHit.confidence, 1);
  t.ok(noisyHit.confidence < 0.95 && noisyHit.confidence > 0.05, `noisy confidence ${noisyHit.confidence}`);
  const span = scoreKeywordOnSpan(noisyFrames, TOKENS, BLANK, BEARING)!;
  t.ok(Math.abs(span.confidence - noisyHit.confidence) < 1e-9, 'scoreKeywordOnSpan agrees with the search');
});

t.test('an unsure model lowers confidence even when the keyword is its best path', async (t) => {
  // Every intended token at only 0.12 (the rest share 0.88): still the best path, but weak evidence.
  const unsure = new PosteriorBuilder(rng(3), 0.12).blank(4).phones(BEARING).blank(6).build();
  const span = scoreKeywordOnSpan(unsure, TOKENS, BLANK, BEARING)!;
  t.equal(span.logRatio, 0, 'the keyword path is the best path');
  t.ok(Math.abs(span.phonePosterior - 0.12) < 1e-6);
  t.ok(Math.abs(span.confidence - 0.12 / 0.3) < 1e-6, 'confidence = phone posterior / minPhonePosterior');
  t.equal(scoreKeywordOnSpan(unsure, TOKENS, BLANK, BEARING, { minPhonePosterior: 0 })!.confidence, 1, 'without the certainty term: 1.0');
  const [hit] = run(search([keyword('bearing', [BEARING], { threshold: 0.1 })]), unsure);
  t.ok(Math.abs(hit.confidence - span.confidence) < 1e-9, 'the search reports the same');
  t.same(terms(run(search(), unsure)), [], 'not reported at the usual threshold');
});

t.test('near misses are not reported', async (t) => {
  const nearMisses: Array<[string, string[]]> = [
    ['boring', ['B', 'AO', 'R', 'IH', 'NG']],
    ['bearin\'', ['B', 'EH', 'R', 'IH', 'N']],
    ['leap', ['L', 'IY', 'P']],
    ['grinder', ['G', 'R', 'AY', 'N', 'D', 'ER']],
  ];
  for (const [word, phones] of nearMisses) {
    const b = new PosteriorBuilder(rng(4)).blank(4).phones(phones).blank(8);
    t.same(terms(run(search(), b.build())), [], `"${word}" (${phones.join(' ')}) fires nothing`);
  }
});

t.test('a longer term covering a shorter one wins', async (t) => {
  const both = new PosteriorBuilder(rng(5)).blank(4).phones(OIL).phones(LEAK).blank(6);
  t.same(terms(run(search(), both.build())), ['oil leak'], '"oil leak" over "oil" and "leak"');
  const alone = new PosteriorBuilder(rng(5)).blank(4).babble(6, OIL_LEAK).phones(LEAK).blank(6);
  t.same(terms(run(search(), alone.build())), ['leak'], '"leak" on its own is still found');
  const noisyLong = new PosteriorBuilder(rng(6)).blank(4).phones(OIL, undefined, true).phones(LEAK).blank(6);
  const strict = search([keyword('oil leak', [OIL_LEAK], { threshold: 0.97 }), keyword('leak', [LEAK])]);
  t.same(terms(run(strict, noisyLong.build({ target: 0.3, competitor: 0.6, rate: 1 }))), ['leak'], 'the longer term must pass its own threshold to win');
});

t.test('a calibration that raises a longer term does not turn it into a shorter term inside it', async (t) => {
  // "oil leak" said a little unclearly: over its vocabulary threshold (0.5), under a calibrated 0.99.
  const frames = new PosteriorBuilder(rng(6)).blank(4).phones(OIL, undefined, true).phones(LEAK).blank(6).build({ target: 0.3, competitor: 0.6, rate: 1 });
  const keywords = [keyword('oil leak', [OIL_LEAK]), keyword('leak', [LEAK]), keyword('oil', [OIL])];
  const calibrated = (thresholds: Array<[string, number]>): Detection[] =>
    run(new KeywordSearch({ keywords, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC, thresholds: new Map(thresholds) }), frames);
  const [plain] = run(search(keywords), frames);
  t.equal(plain?.term, 'oil leak', 'at the vocabulary\'s thresholds: "oil leak"');
  t.ok(plain!.confidence > 0.5 && plain!.confidence < 0.99, `its confidence ${plain?.confidence}`);
  t.same(terms(calibrated([['oil leak', 0.99]])), [], 'raised out of reach, it is not reported, and neither is "leak" or "oil" inside it');
  t.same(terms(calibrated([['oil leak', 0.99], ['leak', 0.3]])), [], 'not even when the shorter term\'s threshold is lowered');
  t.same(terms(calibrated([['oil leak', 0.5]])), ['oil leak'], 'at a calibrated threshold it passes, it is reported as before');
  const alone = new PosteriorBuilder(rng(5)).blank(4).babble(6, OIL_LEAK).phones(LEAK).blank(6).build();
  t.same(terms(run(new KeywordSearch({ keywords, tokens: TOKENS, blankIndex: BLANK, frameShiftSec: FRAME_SEC, thresholds: new Map([['oil leak', 0.99]]) }), alone)),
    ['leak'], '"leak" on its own is still found');
});

t.test('identical consecutive phones need a blank between them', async (t) => {
  // "oy l iy k": one L run, no blank inside it, so "oil leak" (OY L L IY K) is not there.
  const single = new PosteriorBuilder(rng(7)).blank(4).phones(['OY', 'L', 'IY', 'K']).blank(6);
  const frames = single.build();
  const detected = terms(run(search(), frames));
  t.notOk(detected.includes('oil leak'), `got ${detected.join(', ')}`);
  t.ok(detected.includes('leak') || detected.includes('oil'));
  t.ok(scoreKeywordOnSpan(frames, TOKENS, BLANK, OIL_LEAK)!.confidence < 0.5, 'span score agrees');
});

t.test('boost raises confidence and recall', async (t) => {
  const b = new PosteriorBuilder(rng(8)).blank(4).phones(BEARING, 'kw', true).blank(6);
  const frames = b.build({ target: 0.3, competitor: 0.6, rate: 0.6 });
  const probe = run(search([keyword('bearing', [BEARING], { threshold: 0 })]), frames);
  const plain = run(search([keyword('bearing', [BEARING], { threshold: 0.5 })]), frames);
  // Enough bonus per phone to lift it over 0.5: confidence = exp(L / phones + boost).
  const boost = Math.log(0.5 / probe[0].confidence) + 0.05;
  const boosted = run(search([keyword('bearing', [BEARING], { threshold: 0.5, boost })]), frames);
  t.ok(probe[0].confidence < 0.5, `unboosted confidence ${probe[0].confidence} is under threshold`);
  t.same(terms(plain), []);
  t.same(terms(boosted), ['bearing']);
  t.ok(Math.abs(boosted[0].confidence - probe[0].confidence * Math.exp(boost)) < 1e-9, 'boost scales confidence by e^boost');
});

t.test('thresholds: per term, stricter for short terms', async (t) => {
  const b = new PosteriorBuilder(rng(9)).blank(4).phones(BEARING, 'kw', true).blank(6);
  const frames = b.build({ target: 0.4, competitor: 0.5, rate: 0.5 });
  const [probe] = run(search([keyword('bearing', [BEARING], { threshold: 0 })]), frames);
  const under = run(search([keyword('bearing', [BEARING], { threshold: probe.confidence - 0.01 })]), frames);
  const over = run(search([keyword('bearing', [BEARING], { threshold: probe.confidence + 0.01 })]), frames);
  t.same(terms(under), ['bearing']);
  t.same(terms(over), []);
  const short = run(search([keyword('leak', [LEAK], { threshold: 0.5 })]), new PosteriorBuilder(rng(9)).blank(3).phones(LEAK).blank(5).build());
  t.equal(short[0].threshold, 0.55, 'a 3-phone term is held to 0.5 + 1 x 0.05');
});

t.test('every pronunciation of a term is searched', async (t) => {
  const either = keyword('either', [['IY', 'DH', 'ER'], ['AY', 'DH', 'ER']]);
  const b = new PosteriorBuilder(rng(10)).blank(4).phones(['IY', 'DH', 'ER'], 'a').blank(60).phones(['AY', 'DH', 'ER'], 'b').blank(5);
  const detections = run(search([either]), b.build());
  t.same(terms(detections), ['either', 'either']);
  t.ok(detections[0].end <= detections[1].start);
});

t.test('bad input is refused with the culprit named', async (t) => {
  t.throws(() => search([keyword('gasket', [['G', 'AE', 'S', 'K', 'IX', 'T']])]), /gasket.*"IX"/);
  t.throws(() => search([keyword('ah', [['AH']])]), /"ah".*1 phone/);
  t.throws(() => search([keyword('bad', [BEARING], { threshold: 1.5 })]), /"bad".*threshold/);
  const s = search();
  t.throws(() => s.accept(new PosteriorBuilder(rng(1)).blank(2).build()), /startSegment/);
  s.startSegment('x', 0);
  const frames = new PosteriorBuilder(rng(1)).blank(2).build();
  t.throws(() => s.accept({ ...frames, startFrame: 5 }), /expected frame 0/);
});
