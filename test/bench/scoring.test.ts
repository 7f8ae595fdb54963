import t from 'tap';
import { scoreDetections, combineScores } from '../../bench/lib/scoring.js';
import { termMatcher, termSentences, generalSentences } from '../../bench/lib/sentences.js';
import { parseThresholds } from '../../bench/eval/evaluate.js';
import { editDistance, greedyDecode } from '../../bench/eval/per.js';
import { parseKwsOutput } from '../../bench/lib/pocketsphinx.js';
import { percentile, seededRandom } from '../../bench/lib/common.js';

const spans = [
  { start: 1, end: 3, targets: ['oil leak'], allowed: ['oil leak', 'gearbox'] },
  { start: 5, end: 7, targets: ['bearing'], allowed: ['bearing'] },
  { start: 9, end: 11, targets: [], allowed: [] },
];

t.test('a detection inside its utterance is a hit, each target counted once', async (t) => {
  const s = scoreDetections([
    { term: 'oil leak', start: 1.5, end: 2 }, { term: 'oil leak', start: 2.1, end: 2.5 }, { term: 'gearbox', start: 2.5, end: 2.9 },
  ], spans, 3600);
  t.equal(s.targets, 2);
  t.equal(s.hits, 1);
  t.equal(s.falseAlarms, 0, 'a spoken non-target term is not a false alarm');
  t.same(s.missedTerms, { bearing: 1 });
});

t.test('wrong term, wrong place or a term-free utterance are false alarms per hour', async (t) => {
  const s = scoreDetections([
    { term: 'bearing', start: 1.5, end: 2 }, { term: 'bearing', start: 9.5, end: 10 }, { term: 'bearing', start: 20, end: 21 },
    { term: 'bearing', start: 7.2, end: 7.4 },
  ], spans, 1800);
  t.equal(s.hits, 1, 'within the slack after the utterance still counts');
  t.equal(s.falseAlarms, 3);
  t.equal(s.falseAlarmsPerHour, 6);
  const both = combineScores([s, s]);
  t.equal(both.falseAlarmsPerHour, 6);
  t.equal(both.recall, 0.5);
});

t.test('terms are matched as whole words in order', async (t) => {
  const m = termMatcher(['oil leak', 'leak', 'gear', 'gearbox']);
  t.same(m.termsIn('there is an Oil  Leak under the gearbox').sort(), ['gearbox', 'leak', 'oil leak']);
  t.same(m.termsIn('gears and oil then leak'), ['leak'], '"oil leak" needs its words next to each other; "gears" is not "gear"');
});

t.test('term sentences name their targets; general sentences have no terms', async (t) => {
  const terms = ['bearing', 'oil leak', 'pump', 'park'];
  const sentences = termSentences(terms, 12, seededRandom(1));
  t.equal(sentences.length, 12);
  for (const s of sentences) for (const target of s.targets) t.ok(s.allowed.includes(target), `${s.text}: ${target}`);
  t.notOk(generalSentences(terms, 100).some((s) => /\bpark\b/.test(s)), 'a general sentence with a term is dropped');
});

t.test('threshold lists and ranges', async (t) => {
  t.same(parseThresholds('0.3..0.6'), [0.3, 0.4, 0.5, 0.6]);
  t.same(parseThresholds('0.4,0.5'), [0.4, 0.5]);
  t.same(parseThresholds(undefined), []);
  t.throws(() => parseThresholds('0.5..2'), /thresholds in \[0,1\]/);
});

t.test('greedy CTC decoding and edit distance', async (t) => {
  // 3 tokens, blank 0: frames argmax 1 1 0 1 2 2 -> [1, 1, 2]
  const argmax = [1, 1, 0, 1, 2, 2];
  const data = new Float32Array(argmax.flatMap((k) => [0, 1, 2].map((j) => (j === k ? 0 : -5))));
  t.same(greedyDecode(data, 6, 3, 0), [1, 1, 2]);
  t.equal(editDistance([1, 2, 3], [1, 3]), 1);
  t.equal(editDistance([], [4, 5]), 2);
  t.equal(editDistance([1, 2], [2, 1]), 2);
});

t.test('pocketsphinx keyword output is parsed, hypothesis lines ignored', async (t) => {
  const out = 'gearbox  overheating\ngearbox  15.180 15.660 0.897796\noil leak 3.5 4.25 0.9\nunknown 1.0 2.0 0.5\n';
  t.same(parseKwsOutput(out, new Set(['gearbox', 'oil leak'])), [
    { term: 'gearbox', start: 15.18, end: 15.66 }, { term: 'oil leak', start: 3.5, end: 4.25 },
  ]);
});

t.test('percentiles interpolate', async (t) => {
  t.equal(percentile([1, 2, 3, 4], 50), 2.5);
  t.equal(percentile([5], 95), 5);
  t.ok(Number.isNaN(percentile([], 50)));
});
