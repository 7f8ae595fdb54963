/**
 * The term-head detector's decisions, on the shipped heads and the real speech embedding: a term is
 * reported on the first hop its score reaches its threshold, once per refractory period; a term that
 * a longer vocabulary term contains waits, and is dropped when the longer one fires. The scores are
 * set by hand here (what the heads say is measured by the real-speech benchmark and the daemon tests).
 */
import path from 'node:path';
import t from 'tap';
import { HeadDetector, headCovers } from '../../src/kws/head-detector.js';
import type { KeywordSpec } from '../../src/kws/types.js';
import { SpeechEmbedding } from '../../src/model/speech-embedding.js';
import { TermHeads } from '../../src/model/term-heads.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const heads = await TermHeads.load(path.join(repo, 'models/gearhear-heads'));
const embedding = await SpeechEmbedding.load();
t.teardown(async () => { await heads.dispose(); await embedding.dispose(); });

const spec = (term: string, threshold = 0.5): KeywordSpec => ({
  term, category: 'component', severity: 'info', threshold, boost: 0, pronunciations: [['B']],
});
/** A head score on the keyword scale with the pivot 0.6 used here. */
const onScale = (s: number): number => Math.round(1000 / (1 + Math.exp(-(Math.log(s / (1 - s)) - Math.log(0.6 / 0.4))))) / 1000;
const scoresWith = (values: Record<string, number>): Float32Array => {
  const s = new Float32Array(heads.manifest.terms.length);
  for (const [term, v] of Object.entries(values)) s[heads.termIndex.get(term)!] = v;
  return s;
};
const detector = (keywords: KeywordSpec[], refractorySec = 1): HeadDetector =>
  new HeadDetector({ embedding, heads, keywords, scorePivot: 0.6, refractorySec });

t.test('headCovers splits keywords into those with a head and the rest', async (t) => {
  const { covered, uncovered } = headCovers(heads, [spec('bearing'), spec('flux capacitor')]);
  t.same(covered.map((k) => k.term), ['bearing']);
  t.same(uncovered.map((k) => k.term), ['flux capacitor']);
});

t.test('first hop at or above the threshold reports; the refractory period holds it back', async (t) => {
  const d = detector([spec('cavitation')]);
  const seg = await d.startSegment('s1', 10);
  t.same(seg.hop(scoresWith({ cavitation: 0.59 })), [], 'a head score below the pivot 0.6 is a confidence below 0.5');
  const [det] = seg.hop(scoresWith({ cavitation: 0.93 }));
  t.equal(det?.term, 'cavitation');
  t.equal(det?.confidence, onScale(0.93), 'confidence: logit(score) - logit(pivot)');
  t.ok(Math.abs(det!.confidence - 0.898) < 0.002);
  t.equal(det?.threshold, 0.5, 'the keyword threshold, on the same scale as the phone search');
  t.equal(det?.end, 10.12, 'end: the middle of the second 80 ms hop after the segment start');
  t.ok(det!.start < det!.end && det!.start >= 10, 'start from the term\'s typical length, not before the segment');
  for (let i = 0; i < 12; i++) t.same(seg.hop(scoresWith({ cavitation: 0.99 })), [], `hop ${i + 3}: within 1 s of the report`);
  t.equal(seg.hop(scoresWith({ cavitation: 0.99 }))[0]?.term, 'cavitation', 'reported again after the refractory period');
});

t.test('a stricter threshold on the vocabulary line needs a higher head score', async (t) => {
  const d = detector([spec('gearbox', 0.9)]);
  const seg = await d.startSegment('s', 0);
  t.same(seg.hop(scoresWith({ gearbox: 0.85 })), [], `confidence ${onScale(0.85)} < 0.9`);
  t.equal(seg.hop(scoresWith({ gearbox: 0.95 }))[0]?.threshold, 0.9);
});

t.test('a contained term waits for the longer one and is dropped when it fires', async (t) => {
  const d = detector([spec('bearing'), spec('ball bearing')]);
  const seg = await d.startSegment('s', 0);
  t.same(seg.hop(scoresWith({ bearing: 0.9 })), [], '"bearing" is held: "ball bearing" may still fire');
  const out = seg.hop(scoresWith({ bearing: 0.95, 'ball bearing': 0.8 }));
  t.same(out.map((x) => x.term), ['ball bearing']);
  for (let i = 0; i < 12; i++) t.same(seg.hop(scoresWith({})), [], 'and "bearing" never follows');
  t.same(await seg.finish(), []);
});

t.test('a contained term alone is reported once its hold runs out, with its best score', async (t) => {
  const d = detector([spec('bearing'), spec('ball bearing')]);
  const seg = await d.startSegment('s', 0);
  const out = [...seg.hop(scoresWith({ bearing: 0.7 })), ...seg.hop(scoresWith({ bearing: 0.9 }))];
  for (let i = 0; i < 12; i++) out.push(...seg.hop(scoresWith({})));
  t.same(out.map((x) => [x.term, x.confidence]), [['bearing', onScale(0.9)]]);
  const seg2 = await detector([spec('bearing'), spec('ball bearing')]).startSegment('s2', 0);
  seg2.hop(scoresWith({ bearing: 0.8 }));
  t.same((await seg2.finish()).map((x) => x.term), ['bearing'], 'the end of the segment releases what is held');
});

t.test('a stream turns audio into one decision per 80 ms hop', async (t) => {
  const seen: number[] = [];
  const d = new HeadDetector({ embedding, heads, keywords: [spec('bearing')], scorePivot: 0.99, refractorySec: 1, onScores: (end) => seen.push(end) });
  const seg = await d.startSegment('s', 5);
  await seg.accept(new Float32Array(16000 + 100));
  t.equal(seen.length, 12, '1 s of audio: 12 complete hops of 1280 samples');
  t.equal(seen[0], 5.04);
});

t.test('a site calibration\'s thresholds replace the keywords\'; a score sink sees every hop at or above its floor', async (t) => {
  const seen: Array<{ term: string; score: number; end: number }> = [];
  const d = new HeadDetector({
    embedding, heads, keywords: [spec('gearbox'), spec('cavitation')], scorePivot: 0.6, refractorySec: 1,
    thresholds: new Map([['gearbox', 0.95]]), scores: { floor: 0.3, score: (o) => seen.push({ term: o.term, score: o.score, end: o.end }) },
  });
  const seg = await d.startSegment('s', 0);
  t.same(seg.hop(scoresWith({ gearbox: 0.9, cavitation: 0.1 })), [], `gearbox at confidence ${onScale(0.9)}: under its calibrated 0.95`);
  t.same(seen.map((o) => o.term), ['gearbox'], 'the sink saw gearbox (above the floor), not cavitation (below it)');
  t.ok(Math.abs(seen[0]!.score - onScale(0.9)) < 1e-3, 'on the keyword scale');
  const [det] = seg.hop(scoresWith({ gearbox: 0.99, cavitation: 0.7 }));
  t.equal(det?.threshold, 0.95, 'the calibrated threshold is reported');
  t.equal(seen.length, 3, 'every hop reached the sink, reported or not');
});

t.test('with patience a term must hold its score for that many hops in a row; it ended where they began', async (t) => {
  const seen: number[] = [];
  const d = new HeadDetector({
    embedding, heads, keywords: [spec('cavitation')], scorePivot: 0.6, refractorySec: 1, patienceHops: 3,
    scores: { floor: 0.01, score: (o) => seen.push(Math.round(o.score * 1000) / 1000) },
  });
  const seg = await d.startSegment('s', 10);
  t.same([...seg.hop(scoresWith({ cavitation: 0.99 })), ...seg.hop(scoresWith({ cavitation: 0.99 }))], [], 'fewer hops than the patience in the segment');
  t.same(seg.hop(scoresWith({ cavitation: 0.1 })), [], 'a low hop breaks the run');
  t.same([...seg.hop(scoresWith({ cavitation: 0.99 })), ...seg.hop(scoresWith({ cavitation: 0.99 }))], [], 'two high hops are not three');
  const [det] = seg.hop(scoresWith({ cavitation: 0.93 }));
  t.equal(det?.term, 'cavitation', 'reported on the third high hop in a row');
  t.equal(det?.confidence, onScale(0.93), 'with the lowest confidence of the three');
  t.equal(det?.end, 10.28, 'ending at the first of the three hops (the fourth of the segment, its middle at 10.28 s)');
  const low = onScale(0.1), high = onScale(0.93);
  t.same(seen, [low, low, low, high], 'the score sink sees the patient confidence: nothing while the segment is too short, then the lowest of each three');
  const fluke = await d.startSegment('s2', 20);
  const out = [0.1, 0.99, 0.1, 0.99, 0.1, 0.99].flatMap((v) => fluke.hop(scoresWith({ cavitation: v })));
  t.same(out, [], 'one-hop flukes are never reported');
  t.throws(() => new HeadDetector({ embedding, heads, keywords: [], scorePivot: 0.6, refractorySec: 1, patienceHops: 0 }), /patienceHops/);
});
