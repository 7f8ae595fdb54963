/**
 * Enrolment on real speakers (issue 20, part 5; docs/enrolment.md): a "site" is K measurement
 * speakers of Speech Commands (hash c-f, those with the most command words said 4 times or more).
 * Each enrols its first `--takes` takes of every command word it said that often; `gearhear adapt`'s
 * SiteAdapter fits the site's heads (perturbing with the first halves of the eval-only machine noise)
 * and its guard accepts or refuses each. Measured, per site and term, before (the factory head:
 * shipped, or compiled by vocab compile) and after (the site head where accepted, else the factory's):
 * the enrolled speakers' other takes, up to `--max-unenrolled` takes of other measurement speakers,
 * each in the second halves of the noise at 10 dB, and held-out speakers' real speech without the
 * words (also at 10 dB) for false alarms. Miss at 0 FA and at <= 1 FA/h: the threshold is the lowest
 * whose false alarms on that speech stay within the budget (chosen on the negatives alone), and at
 * the detector's default threshold, with its FA/h. Scored as the head detector decides (patience,
 * refractory time), each clip and utterance a fresh stream.
 *
 * Each site also gives `--site-neg-min` minutes of its own term-free recordings (gearhear adapt
 * --negatives): other held-out speakers than the measured negatives, in the site's half of the noise.
 *
 *   npm run bench:enroll -- [--sites 3] [--speakers-per-site 3] [--takes 3] [--neg-hours 1] [--site-neg-min 8] [--bias-margin 2.5] [--l2 1e-3] [--perturbations 16] [--select] [--first-site 1] [--fsdd] [--max-enrolled-tests 20] [--compile-clips 20] [--compile-real train-speech[,sc-train]] [--compile-inputs features|features+window] [--compile-voices espeak-ng[,flite,...]] [--max-unenrolled 40] [--pocketsphinx [--psx-sweep -6,-4,...,1]] [--out FILE]
 *
 * --pocketsphinx adds the peer spotter (bench/lib/pocketsphinx-clips.ts) on the same test clips and
 * term-free speech: PocketSphinx keyword spotting, which enrolment cannot teach, beside the heads.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SCHEMA } from '../src/config/index.js';
import { joinRows, RowMaker, rowCount, type ScoredRows } from '../src/enrol/adapt-rows.js';
import { patientValues } from '../src/kws/head-fit.js';
import { SiteAdapter, type EnrolledTerm } from '../src/enrol/adapt.js';
import { checkTake } from '../src/enrol/take-check.js';
import { loadCompiledHeads } from '../src/kws/compiled-heads.js';
import { HeadCompiler, type HeadInputs } from '../src/kws/head-compile.js';
import { NegativeBank } from '../src/model/negative-bank.js';
import { EMBEDDING_SHIFT_SEC, SpeechEmbedding } from '../src/model/speech-embedding.js';
import { scoreLogit, TermHeads } from '../src/model/term-heads.js';
import { cacheDir, formatTable, repoRoot, round, seededRandom } from './lib/common.js';
import { COMMAND_WORDS, DIGIT_WORDS, fsddTakes, measurementTakes, noiseHalves, readOgg, termFreeSpeech, testClip, type Take } from './lib/enroll-data.js';
import { benchVoices, trainingRealSpeech } from './lib/wakeword-data.js';
import { describeVoices } from '../src/kws/term-synth.js';
import { compileVocabulary } from '../src/kws/compile.js';
import { PocketsphinxClips, PSX_SWEEP, type PsxMeasure } from './lib/pocketsphinx-clips.js';
import { POCKETSPHINX_DEFAULTS } from './lib/pocketsphinx.js';

const PIVOT = SCHEMA.model.headsThreshold.default as number;
const PATIENCE = SCHEMA.model.headsPatience.default as number;
const REFRACTORY_HOPS = Math.ceil((SCHEMA.kws.refractoryMs.default as number) / 1000 / EMBEDDING_SHIFT_SEC);
const DEFAULT_THR = scoreLogit(PIVOT) + scoreLogit(SCHEMA.kws.threshold.default as number);

interface Unit { weights: Float32Array; baseWeight: number; bias: number }
interface Measure { miss0: number; miss1: number; missDefault: number; faDefault: number }

/** Per-hop logits of `term` in `rows`: the factory's, or a site unit's on [features, factory logit]. */
function logits(rows: ScoredRows, term: string, unit: Unit | null): Float64Array {
  const n = rowCount(rows), base = rows.base.get(term)!, out = new Float64Array(n), d = rows.dim;
  for (let i = 0; i < n; i++) {
    const b = scoreLogit(base[i]!);
    if (!unit) { out[i] = b; continue; }
    let z = unit.bias + unit.baseWeight * b;
    for (let k = 0; k < d; k++) z += unit.weights[k]! * rows.features[i * d + k]!;
    out[i] = z;
  }
  return out;
}

function alarms(patient: Float64Array, runs: readonly number[], thr: number): number {
  let n = 0, first = 0;
  for (const len of runs) {
    let last = -Infinity;
    for (let i = 0; i < len; i++) if (patient[first + i]! >= thr && i - last >= REFRACTORY_HOPS) { n++; last = i; }
    first += len;
  }
  return n;
}

/** Lowest threshold with at most `allowed` alarms (alarms fall as it rises). */
function thresholdFor(patient: Float64Array, runs: readonly number[], allowed: number): number {
  const c = [...new Set(Array.from(patient).filter(Number.isFinite))].sort((a, b) => a - b);
  let lo = 0, hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (alarms(patient, runs, c[mid]!) <= allowed) hi = mid;
    else lo = mid + 1;
  }
  return hi >= c.length ? (c[c.length - 1] ?? 0) + 1e-6 : c[hi]!;
}

/** The negatives' patient logits per unit: measure runs twice per unit (enrolled, unenrolled) on the same hour. */
const negCache = new WeakMap<object, Float64Array>();

function measure(term: string, unit: Unit | null, pos: ScoredRows, neg: ScoredRows, negHours: number): Measure {
  const key = unit ?? neg.base.get(term)!;
  const pn = negCache.get(key) ?? patientValues(logits(neg, term, unit), neg.runs, PATIENCE);
  negCache.set(key, pn);
  const pp = patientValues(logits(pos, term, unit), pos.runs, PATIENCE);
  const best: number[] = [];
  let first = 0;
  for (const len of pos.runs) {
    let m = -Infinity;
    for (let i = 0; i < len; i++) m = Math.max(m, pp[first + i]!);
    best.push(m);
    first += len;
  }
  const miss = (thr: number): number => best.filter((b) => b < thr).length / best.length;
  return {
    miss0: miss(thresholdFor(pn, neg.runs, 0)), miss1: miss(thresholdFor(pn, neg.runs, Math.floor(negHours))),
    missDefault: miss(DEFAULT_THR), faDefault: alarms(pn, neg.runs, DEFAULT_THR) / negHours,
  };
}

interface FactoryOptions { clips: number; realSources?: string; inputs: HeadInputs; voices?: string; words: readonly string[]; name: string }

async function factoryHeads(shipped: TermHeads, embedding: SpeechEmbedding, bank: NegativeBank, o: FactoryOptions): Promise<{ heads: TermHeads; vocab: string }> {
  const { clips, realSources } = o;
  const vocab = path.join(await cacheDir('enroll'), `${o.name}${realSources ? '-real' : ''}${o.inputs === 'features' ? '-features' : ''}${o.voices ? `-${o.voices.replace(/,/g, '+')}` : ''}.txt`);
  await writeFile(vocab, o.words.join('\n') + '\n');
  const t0 = performance.now();
  // --compile-real SOURCES: the factory heads also from the words' real occurrences (vocab compile --real-speech), never a measured speaker.
  const realSpeech = realSources ? await trainingRealSpeech(realSources.split(',')) : undefined;
  const voices = await benchVoices(o.voices);
  const r = await new HeadCompiler({ heads: shipped, embedding, bank, scorePivot: PIVOT, clipsPerTerm: clips, realSpeech, voices, inputs: o.inputs }).compile(vocab);
  console.log(`factory heads: shipped for ${r.shipped.join(', ')}; compiled ${r.compiled.map((e) => `${e.term}${e.realOccurrences !== undefined ? ` (${e.realOccurrences} real)` : ''}`).join(', ') || '-'} (${clips} clips each, voices of ${describeVoices(voices).join('; ')}${realSources ? `, real speech of ${realSources}` : ''}${o.inputs === 'features' ? ', reading the features only' : ''}, ${round((performance.now() - t0) / 1000, 1)} s), kept ${r.cached.join(', ') || '-'}`);
  return { heads: shipped.withCompiled(await loadCompiledHeads(vocab, shipped, 'google')), vocab };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    sites: { type: 'string', default: '3' }, 'speakers-per-site': { type: 'string', default: '3' }, takes: { type: 'string', default: '3' },
    'neg-hours': { type: 'string', default: '1' }, 'compile-clips': { type: 'string', default: '20' }, 'max-unenrolled': { type: 'string', default: '40' }, 'max-enrolled-tests': { type: 'string', default: '20' },
    'site-neg-min': { type: 'string', default: '8' }, 'bias-margin': { type: 'string' }, l2: { type: 'string' }, perturbations: { type: 'string' }, select: { type: 'boolean' }, fsdd: { type: 'boolean' }, 'first-site': { type: 'string', default: '1' }, 'compile-real': { type: 'string' }, 'compile-inputs': { type: 'string', default: 'features+window' }, 'compile-voices': { type: 'string' }, pocketsphinx: { type: 'boolean' }, 'psx-sweep': { type: 'string' },
    out: { type: 'string', default: path.join(repoRoot, 'bench/results/enroll.json') },
  } });
  const nSites = Number(values.sites), K = Number(values['speakers-per-site']), nTakes = Number(values.takes), maxOther = Number(values['max-unenrolled']), maxMine = Number(values['max-enrolled-tests']);
  const t0 = performance.now(), cpu0 = process.cpuUsage();
  const headsDir = path.join(repoRoot, 'models/gearhear-heads');
  const shipped = await TermHeads.load(headsDir);
  const embedding = await SpeechEmbedding.load();
  const bank = await NegativeBank.load(headsDir);
  // --fsdd: FSDD's 6 speakers saying the digits (eval-only) in place of Speech Commands' command words.
  if (values.fsdd && values.select) throw new Error('--fsdd measures (FSDD is eval-only); choose settings with --select on Speech Commands');
  const terms: string[] = values.fsdd ? [...DIGIT_WORDS] : [...COMMAND_WORDS];
  const { heads, vocab } = await factoryHeads(shipped, embedding, bank, { clips: Number(values['compile-clips']), realSources: values['compile-real'], inputs: values['compile-inputs'] as HeadInputs, voices: values['compile-voices'], words: terms, name: values.fsdd ? 'digits' : 'command-words' });
  const maker = new RowMaker(heads, embedding, terms);
  const rand = seededRandom(20_261_207);
  const noise = await noiseHalves();
  // --select: a run for choosing settings, on nothing a reported run measures: the trainable speakers (hash 0-b) and
  // term-free speech after the reported runs' negatives and site recordings.
  const siteMin = Number(values['site-neg-min']), reportedHours = Number(values['neg-hours']) + (siteMin * nSites) / 60 + 0.1;
  const neg = await termFreeSpeech(Number(values['neg-hours']), noise.test, rand, values.select ? reportedHours : 0, terms);
  const negParts: ScoredRows[] = [];
  for (const u of neg.utterances) negParts.push((await maker.clipRows(u)).rows);
  const negRows = joinRows(negParts, terms);
  console.log(`negatives: ${round(neg.hours, 2)} h of ${neg.speakers} held-out speakers' speech without the words, 10 dB machine noise (${round((performance.now() - t0) / 1000, 1)} s so far)`);
  // Each site's own term-free recordings (gearhear adapt --negatives): other held-out speakers' speech after the
  // test negatives, in the site's noise (the first halves).
  const siteNeg = siteMin > 0 ? await termFreeSpeech((siteMin * nSites) / 60, noise.site, seededRandom(20_261_208), values.select ? Number(values['neg-hours']) : neg.hours, terms) : { utterances: [], hours: 0, speakers: 0 };
  const perSite = Math.ceil(siteNeg.utterances.length / nSites);
  if (siteMin > 0) console.log(`site recordings: ${round(siteNeg.hours * 60, 1)} min of ${siteNeg.speakers} other held-out speakers, ${perSite} utterances per site`);

  const all = values.fsdd ? await fsddTakes() : await measurementTakes(values.select);
  const richness = (s: string): number => [...all.get(s)!.values()].filter((ts) => ts.length > nTakes).length;
  const speakers = [...all.keys()].sort((a, b) => richness(b) - richness(a) || a.localeCompare(b));
  const first = Number(values['first-site']) - 1; // --first-site 4: sites of speakers no earlier run enrolled
  const sites = Array.from({ length: nSites }, (_, i) => speakers.slice((first + i) * K, (first + i + 1) * K));
  const clipCache = new Map<string, ScoredRows>();
  // --pocketsphinx: each test clip's audio too, for PocketSphinx on the very same clips.
  const psxClips = new Map<string, { samples: Float32Array; term: string }>();
  const clipRows = async (t: Take): Promise<ScoredRows> => {
    const hit = clipCache.get(t.file);
    if (hit) return hit;
    const samples = await testClip(t, noise.test, rand);
    if (values.pocketsphinx) psxClips.set(t.file, { samples, term: t.word });
    const r = (await maker.clipRows(samples)).rows;
    clipCache.set(t.file, r);
    return r;
  };
  const results: Array<{ site: number; term: string; accepted: boolean; refusals: string[]; enrolledSpeakers: number; enrolledTests: number; otherTests: number; before: { enrolled: Measure; other: Measure }; after: { enrolled: Measure; other: Measure }; guard: unknown; seconds: number; clips: { enrolled: string[]; other: string[] }; pocketsphinx?: { enrolled: PsxMeasure; other: PsxMeasure } }> = [];
  for (const [si, site] of sites.entries()) {
    const enrolled: EnrolledTerm[] = [];
    const tests = new Map<string, { mine: Take[]; others: Take[] }>();
    for (const term of terms) {
      const who = site.filter((s) => (all.get(s)!.get(term)?.length ?? 0) > nTakes);
      if (who.length === 0) continue;
      const takes: EnrolledTerm['takes'] = [];
      for (const s of who) {
        for (const t of all.get(s)!.get(term)!.slice(0, nTakes)) {
          try {
            const c = await checkTake(await readOgg(t.file), t.file);
            takes.push({ samples: c.samples, end: c.speechEnd, who: s });
          } catch (err) {
            console.log(`site ${si + 1}: take refused by enroll: ${(err as Error).message}`);
          }
        }
      }
      if (takes.length < 3) continue;
      enrolled.push({ term, takes, truePositives: [], hardNegatives: [], threshold: SCHEMA.kws.threshold.default as number });
      const outside = [...all.keys()].filter((s) => !site.includes(s)), perOther = Math.max(2, Math.ceil(maxOther / outside.length));
      const others = outside.flatMap((s) => (all.get(s)!.get(term) ?? []).slice(0, perOther)).slice(0, maxOther);
      tests.set(term, { mine: who.flatMap((s) => all.get(s)!.get(term)!.slice(nTakes, nTakes + maxMine)), others });
    }
    const adapter = new SiteAdapter({ siteNegatives: siteNeg.utterances.slice(si * perSite, (si + 1) * perSite), heads, embedding, bank, scorePivot: PIVOT, patienceHops: PATIENCE, refractorySec: REFRACTORY_HOPS * EMBEDDING_SHIFT_SEC, targetFaPerHour: SCHEMA.enrolment.targetFaPerHour.default as number, noiseBeds: noise.site, ...(values['bias-margin'] ? { biasMargin: Number(values['bias-margin']) } : {}), ...(values.l2 ? { l2: Number(values.l2) } : {}), ...(values.perturbations ? { perturbations: Number(values.perturbations) } : {}) });
    const outcomes = await adapter.adapt(enrolled);
    for (const o of outcomes) {
      const e = o.entry, t = tests.get(o.term)!;
      const unit: Unit | null = o.accepted ? { weights: Float32Array.from(e.weights), baseWeight: e.baseWeight, bias: e.bias } : null;
      // One at a time: each clip's noise comes from the seeded generator in this order.
      const rowsOf = async (takes: Take[]): Promise<ScoredRows> => {
        const parts: ScoredRows[] = [];
        for (const x of takes) parts.push(await clipRows(x));
        return joinRows(parts, terms);
      };
      const mine = await rowsOf(t.mine), other = await rowsOf(t.others);
      results.push({
        site: si + 1, term: o.term, accepted: o.accepted, refusals: o.refusals, enrolledSpeakers: e.speakers.length, enrolledTests: t.mine.length, otherTests: t.others.length,
        before: { enrolled: measure(o.term, null, mine, negRows, neg.hours), other: measure(o.term, null, other, negRows, neg.hours) },
        after: { enrolled: measure(o.term, unit, mine, negRows, neg.hours), other: measure(o.term, unit, other, negRows, neg.hours) },
        guard: e.guard, seconds: e.seconds, clips: { enrolled: t.mine.map((x) => x.file), other: t.others.map((x) => x.file) },
      });
      console.log(`site ${si + 1} ${o.term}: ${o.accepted ? 'adapted' : 'REFUSED'} in ${e.seconds} s (${e.takes} takes, ${e.speakers.length} speakers)${o.accepted ? '' : ': ' + o.refusals.join('; ')}`);
    }
  }
  if (values.pocketsphinx) {
    await compileVocabulary(vocab); // the lexicon both spotters pronounce the terms from
    const t1 = performance.now();
    const sweep = values['psx-sweep'] ? values['psx-sweep'].split(',').map(Number) : PSX_SWEEP;
    const psx = await PocketsphinxClips.run(psxClips, neg.utterances, neg.hours, terms, vocab, await cacheDir('enroll'), sweep);
    for (const r of results) r.pocketsphinx = { enrolled: psx.measure(r.term, r.clips.enrolled), other: psx.measure(r.term, r.clips.other) };
    console.log(`pocketsphinx: ${psxClips.size} clips and ${round(neg.hours, 2)} h of term-free speech at ${sweep.length} settings (keyword exponent per phone ${sweep.join(', ')}; its default ${POCKETSPHINX_DEFAULTS.exponentPerPhone} is the "default threshold" column) in ${round((performance.now() - t1) / 1000, 1)} s`);
  }
  const mean = (f: (r: (typeof results)[number]) => number): number => round(results.reduce((a, r) => a + f(r), 0) / results.length, 3);
  const row = (name: string, g: (r: (typeof results)[number]) => Measure): Array<string | number> => [name, mean((r) => g(r).miss0), mean((r) => g(r).miss1), mean((r) => g(r).missDefault), mean((r) => g(r).faDefault)];
  const cpu = process.cpuUsage(cpu0);
  console.log(`\n${results.length} site-terms over ${sites.length} sites of ${K} speakers (${sites.map((s) => s.join('+')).join(', ')}); ${results.filter((r) => r.accepted).length} adapted, ${results.filter((r) => !r.accepted).length} refused by the guard`);
  console.log(`tests: ${results.reduce((a, r) => a + r.enrolledTests, 0)} held-out takes of enrolled speakers, ${results.reduce((a, r) => a + r.otherTests, 0)} takes of unenrolled speakers; negatives ${round(neg.hours, 2)} h\n`);
  console.log(formatTable([
    ['mean over site-terms', 'miss @ 0 FA', 'miss @ <= 1 FA/h', 'miss @ default threshold', 'FA/h @ default'],
    row('before, enrolled speakers', (r) => r.before.enrolled), row('after, enrolled speakers', (r) => r.after.enrolled),
    row('before, unenrolled speakers', (r) => r.before.other), row('after, unenrolled speakers', (r) => r.after.other),
    ...(values.pocketsphinx ? [row('PocketSphinx kws, enrolled speakers', (r) => r.pocketsphinx!.enrolled), row('PocketSphinx kws, unenrolled speakers', (r) => r.pocketsphinx!.other)] : []),
  ]));
  const perTerm = terms.map((term) => {
    const rs = results.filter((r) => r.term === term);
    const m = (f: (r: (typeof results)[number]) => number): number | string => (rs.length ? round(rs.reduce((a, r) => a + f(r), 0) / rs.length, 2) : '-');
    return [term, rs.length, rs.filter((r) => r.accepted).length, m((r) => r.before.enrolled.miss1), m((r) => r.after.enrolled.miss1), m((r) => r.before.other.miss1), m((r) => r.after.other.miss1)];
  });
  console.log('\n' + formatTable([['term', 'sites', 'adapted', 'enrolled before @1FA/h', 'after', 'unenrolled before', 'after'], ...perTerm]));
  console.log(`\nwall ${round((performance.now() - t0) / 1000, 1)} s, CPU ${round((cpu.user + cpu.system) / 1e6, 1)} s; adaptation ${round(results.reduce((a, r) => a + r.seconds, 0) / results.length, 1)} s per term (mean)`);
  await writeFile(values.out!, JSON.stringify({ sites, negHours: neg.hours, results: results.map(({ clips: _clips, ...r }) => r) }, null, 1) + '\n');
  console.log(`wrote ${values.out}`);
  await embedding.dispose();
  await shipped.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
