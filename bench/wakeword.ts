/**
 * The real-speech benchmark (Picovoice wake-word-benchmark protocol, bench/lib/wakeword-data.ts):
 * per-term miss rate at 0 false alarms and at <= 1 false alarm per hour, thresholds chosen on part A
 * and reported on part B, for the term heads (the default detector), the phone model and
 * PocketSphinx keyword spotting on the same audio.
 *
 *   npm run bench:wakeword -- [--sc-test N] [--in-sentence N [--sentences-per-term N]] [--compile-seeds S[,S...]] [--compile-real train-speech[,sc-train] [--compile-real-per-term N] [--compile-real-units words|pieces|words+pieces] [--compile-real-negatives MIN]] [--compile-inputs features|features+window] [--compile-voices espeak-ng[,flite,rhvoice,pico,festival]] [--compile-bias-patience N] [--detectors heads,heads+kws,shipped,sentences,defaults,phones,embphones,both,pocketsphinx] [--embphones DIR] [--calibrations KWS_FILE,EMB_FILE[,BOTH_FILE]] [--max-per-term N] [--neg-hours H] [--heads DIR[,DIR...]] [--patience N[,N...]] [--terms FILE [--compile]] [--embedding google|student|student-int8] [--out FILE]
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SAMPLE_RATE } from '../src/audio/types.js';
import { detectSamples, type DetectFileOptions } from '../src/listen/detect-audio.js';
import { EMBEDDING_CHOICES, EMBEDDING_SHIFT_SEC, SpeechEmbedding, embeddingFileFor, type EmbeddingChoice } from '../src/model/speech-embedding.js';
import { TermHeads } from '../src/model/term-heads.js';
import { SCHEMA } from '../src/config/index.js';
import { calibrationIdentity, calibrationPathFor } from '../src/calibration/file.js';
import { calibrationFor } from '../src/calibration/in-use.js';
import { EMBEDDING_PHONES_DIR, EmbeddingPhoneModel } from '../src/model/embedding-phones.js';
import { PairedPhoneModel } from '../src/model/paired-phones.js';
import { BOTH_LAG_FRAMES } from '../src/model/phone-model.js';
import type { AcousticModel } from '../src/model/types.js';
import { NegativeBank } from '../src/model/negative-bank.js';
import { ContextSpeech, HeadCompiler, type HeadInputs, type RealUnits } from '../src/kws/head-compile.js';
import { loadCompiledHeads } from '../src/kws/compiled-heads.js';
import { cacheDir, formatTable, repoRoot, round, writeWav } from './lib/common.js';
import { runPocketsphinx } from './lib/pocketsphinx.js';
import { DEFAULT_MODEL_DIR, DEFAULT_VOCAB, loadModel, loadVocab } from './lib/setup.js';
import { benchVoices, buildBenchCached, readTerms, sentenceTerms, trainSpeechTexts, trainingRealSpeech, sentencesSayingTerms, TERMS_FILE, type BenchPart, type Span } from './lib/wakeword-data.js';

const SLACK_BEFORE = 0.25;
const SLACK_AFTER = 0.6;
const REFRACTORY = 1.0;

/** A scored moment: a head's per-hop score, or a phone-model detection's confidence. */
interface Scored { term: string; time: number; score: number }

/**
 * Each hop's score replaced by the lowest of its last `n` consecutive hops (openWakeWord's "patience":
 * a term must stay above threshold for n hops), per term; a hop with no predecessor 80 ms before counts
 * as the start of a run. n = 1 leaves the scores as they are. The rule of HeadSegment.patient (the
 * detector's), applied after one scoring pass so that one pass yields a table for every patience.
 */
export function patienceScores(scored: readonly Scored[], n: number): Scored[] {
  if (n <= 1) return [...scored];
  const byTerm = new Map<string, Scored[]>();
  for (const x of scored) (byTerm.get(x.term) ?? byTerm.set(x.term, []).get(x.term)!).push(x);
  const out: Scored[] = [];
  for (const xs of byTerm.values()) {
    xs.sort((a, b) => a.time - b.time);
    for (let i = 0; i < xs.length; i++) {
      let low = xs[i]!.score;
      for (let k = 1; k < n; k++) {
        const prev = xs[i - k], next = xs[i - k + 1]!;
        if (!prev || Math.abs(next.time - prev.time - EMBEDDING_SHIFT_SEC) > 0.01) { low = 0; break; }
        low = Math.min(low, prev.score);
      }
      out.push({ ...xs[i]!, score: low });
    }
  }
  return out;
}

export interface TermResult { term: string; positives: number; miss0: number; fa0B: number; miss1: number; fa1B: number; thr0: number; thr1: number }

/** False alarms at threshold t: runs of scores >= t, at most one per refractory period. */
function falseAlarms(scored: readonly Scored[], term: string, t: number): number {
  let n = 0, last = -Infinity;
  for (const s of scored) if (s.term === term && s.score >= t && s.time - last >= REFRACTORY) { n++; last = s.time; }
  return n;
}

function hits(scored: readonly Scored[], spans: readonly Span[], term: string, t: number): number {
  const mine = scored.filter((s) => s.term === term && s.score >= t);
  return spans.filter((sp) => sp.term === term && mine.some((s) => s.time >= sp.start - SLACK_BEFORE && s.time <= sp.end + SLACK_AFTER)).length;
}

/**
 * Lowest threshold whose false alarms per hour on A are at most `perHour`: a binary search over the
 * negative scores (false alarms fall as the threshold rises). 0 FA: just above the highest score.
 */
function chooseThreshold(neg: readonly Scored[], term: string, hours: number, perHour: number): number {
  const mine = neg.filter((s) => s.term === term);
  const candidates = [...new Set(mine.map((s) => s.score))].sort((a, b) => a - b);
  const allowed = Math.floor(perHour * hours);
  if (candidates.length === 0) return 1e-3;
  let lo = 0, hi = candidates.length; // candidates[hi] (or above the top) is within budget
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (falseAlarms(mine, term, candidates[mid]!) <= allowed) hi = mid;
    else lo = mid + 1;
  }
  return hi >= candidates.length ? candidates[candidates.length - 1]! + 1e-6 : candidates[hi]!;
}

/** Of real sentences that say terms: how many had one of their terms found, and how many other terms were reported. */
async function findInSentences(sentences: ReadonlyArray<{ path: string; samples: Float32Array; terms: string[] }>, options: DetectFileOptions): Promise<{ found: number; others: number; foundTerms: Record<string, number> }> {
  let found = 0, others = 0;
  const foundTerms: Record<string, number> = {};
  for (const s of sentences) {
    const got = new Set((await detectSamples(s.path, s.samples, options)).detections.map((d) => d.term));
    const hit = s.terms.filter((t) => got.has(t));
    if (hit.length > 0) found++;
    for (const t of hit) foundTerms[t] = (foundTerms[t] ?? 0) + 1;
    others += [...got].filter((t) => !s.terms.includes(t)).length;
  }
  return { found, others, foundTerms };
}

export function evaluate(terms: readonly string[], A: { pos: Scored[]; neg: Scored[]; part: BenchPart }, B: { pos: Scored[]; neg: Scored[]; part: BenchPart }): TermResult[] {
  return terms.map((term) => {
    const n = B.part.positives.spans.filter((s) => s.term === term).length;
    const thr0 = chooseThreshold(A.neg, term, A.part.negatives.hours, 0);
    const thr1 = chooseThreshold(A.neg, term, A.part.negatives.hours, 1);
    const miss = (t: number): number => (n === 0 ? NaN : 1 - hits(B.pos, B.part.positives.spans, term, t) / n);
    const fa = (t: number): number => falseAlarms(B.neg, term, t) / B.part.negatives.hours;
    return { term, positives: n, miss0: miss(thr0), fa0B: fa(thr0), miss1: miss(thr1), fa1B: fa(thr1), thr0, thr1 };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      detectors: { type: 'string', default: 'heads,phones,pocketsphinx' }, 'max-per-term': { type: 'string', default: '30' }, terms: { type: 'string' }, compile: { type: 'boolean' },
      'neg-hours': { type: 'string', default: '0' }, heads: { type: 'string' }, out: { type: 'string' }, 'psx-sweep': { type: 'string' }, 'heads-threshold': { type: 'string' }, patience: { type: 'string' },
      embedding: { type: 'string', default: 'google' }, embphones: { type: 'string' }, calibrations: { type: 'string' },
      'sc-test': { type: 'string', default: '40' }, 'in-sentence': { type: 'string' }, 'sentences-per-term': { type: 'string', default: '10' },
      'compile-seeds': { type: 'string', default: '1' }, 'compile-clips': { type: 'string' }, 'compile-context': { type: 'string' },
      'compile-real': { type: 'string' }, 'compile-real-per-term': { type: 'string', default: '60' }, 'compile-real-units': { type: 'string', default: 'words+pieces' }, 'compile-real-negatives': { type: 'string', default: '20' }, 'compile-inputs': { type: 'string', default: 'features+window' }, 'compile-voices': { type: 'string' }, 'compile-bias-patience': { type: 'string', default: '1' },
    },
  });
  const detectors = new Set(values.detectors!.split(','));
  // Heads' patience (model.headsPatience): each value gets a heads table; the detectors that run the
  // real detector (shipped, sentences) use the last.
  const patience = (values.patience ?? String(SCHEMA.model.headsPatience.default)).split(',').map(Number);
  const detectorPatience = patience[patience.length - 1]!;
  if (patience.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) throw new Error('--patience: hop counts from 1 to 8, e.g. 1,2,3');
  const embeddingChoice = values.embedding as EmbeddingChoice;
  if (!EMBEDDING_CHOICES.includes(embeddingChoice)) throw new Error(`--embedding: one of ${EMBEDDING_CHOICES.join(', ')}`);
  const shipped = await readTerms(DEFAULT_VOCAB);
  const inSentence = Number(values['in-sentence'] ?? 0);
  let termsFile = values.terms ? path.resolve(values.terms) : TERMS_FILE;
  if (inSentence > 0) {
    // --in-sentence N: N multi-syllable words of held-out speakers' real sentences as terms never
    // trained on (not shipped, not a benchmark term); each sentence that says one is its positive.
    const known = [...shipped.map((l) => l.split('|')[0]!.trim()), ...await readTerms(TERMS_FILE), ...await readTerms(path.join(repoRoot, 'bench/real-speech/unseen-terms.txt'))];
    termsFile = path.join(await cacheDir('wakeword'), `in-sentence-${inSentence}.txt`);
    await writeFile(termsFile, `# --in-sentence ${inSentence}: words of held-out speakers' real sentences (bench/lib/wakeword-data.ts sentenceTerms)\n${(await sentenceTerms(inSentence, known)).join('\n')}\n`);
  }
  const terms = await readTerms(termsFile);
  const t0 = Date.now();
  const log = (m: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);
  log(`building the benchmark audio (terms: ${terms.join(', ')})`);
  const parts = await buildBenchCached(terms, {
    excludeTerms: shipped.map((l) => l.split('|')[0]!.trim()), maxPerTerm: Number(values['max-per-term']), maxNegativeHours: Number(values['neg-hours']),
    scTestPerTerm: inSentence > 0 ? 0 : Number(values['sc-test']), sentencesPerTerm: inSentence > 0 ? Number(values['sentences-per-term']) : 0,
  });
  for (const p of parts) log(`part ${p.name}: ${p.positives.spans.length} words, ${round(p.negatives.hours, 2)} h of negative speech (${p.negatives.utterances} utterances)`);
  const { specs } = await loadVocab(termsFile, 0.02);
  const model = await loadModel(DEFAULT_MODEL_DIR);
  const results: Record<string, unknown> = { terms, embedding: embeddingChoice, parts: parts.map((p) => ({ name: p.name, words: p.positives.spans.length, negativeHours: round(p.negatives.hours, 3) })) };
  const tables: string[] = [];
  /** The A->B table, then the other fold (thresholds on B, reported on A) and both folds pooled per term. */
  /**
   * At the detector's default setting (a head score of model.headsThreshold, a phone confidence of
   * kws.threshold, one value for every term, chosen on nothing here): positives found over both parts
   * (mean over terms) and false alarms per hour on both parts' negatives (summed over the terms).
   */
  const atDefault = (A: { pos: Scored[]; neg: Scored[] }, B: { pos: Scored[]; neg: Scored[] }, thr: number) => {
    const per = terms.map((term) => {
      const n = parts.reduce((a, p) => a + p.positives.spans.filter((s) => s.term === term).length, 0);
      const found = hits(A.pos, parts[0]!.positives.spans, term, thr) + hits(B.pos, parts[1]!.positives.spans, term, thr);
      return { term, n, found, fa: falseAlarms(A.neg, term, thr) + falseAlarms(B.neg, term, thr) };
    }).filter((x) => x.n > 0);
    const hours = parts[0]!.negatives.hours + parts[1]!.negatives.hours;
    return { threshold: thr, meanFound: round(per.reduce((a, x) => a + x.found / x.n, 0) / per.length, 3), termsHalfFound: per.filter((x) => x.found / x.n >= 0.5).length, terms: per.length,
      faPerHour: round(per.reduce((a, x) => a + x.fa, 0) / hours, 2), perTerm: per };
  };
  const report = (name: string, r: TermResult[], rBA: TermResult[], def?: ReturnType<typeof atDefault>): void => {
    const mean = (xs: TermResult[], f: (x: TermResult) => number): number => round(xs.filter((x) => x.positives > 0).reduce((a, x) => a + f(x), 0) / xs.filter((x) => x.positives > 0).length, 3);
    const pooled = r.map((x, i) => {
      const y = rBA[i]!, n = x.positives + y.positives;
      const miss = (a: number, b: number): number => ((x.positives ? a * x.positives : 0) + (y.positives ? b * y.positives : 0)) / n;
      return { ...x, positives: n, miss0: miss(x.miss0, y.miss0), miss1: miss(x.miss1, y.miss1), fa0B: (x.fa0B + y.fa0B) / 2, fa1B: (x.fa1B + y.fa1B) / 2 };
    });
    const means = (xs: TermResult[]) => ({ meanMiss0: mean(xs, (x) => x.miss0), meanMiss1: mean(xs, (x) => x.miss1), meanFa0: mean(xs, (x) => x.fa0B), meanFa1: mean(xs, (x) => x.fa1B) });
    results[name] = { perTerm: r, perTermBA: rBA, meanMiss0: mean(r, (x) => x.miss0), meanMiss1: mean(r, (x) => x.miss1), meanFa0B: mean(r, (x) => x.fa0B), meanFa1B: mean(r, (x) => x.fa1B), otherFold: means(rBA), bothFolds: means(pooled), atDefault: def };
    const line = (label: string, m: ReturnType<typeof means>) => [label, '', m.meanMiss0, m.meanFa0, m.meanMiss1, m.meanFa1, '', ''];
    tables.push(`${name}\n` + formatTable([
      ['term', 'words (B)', 'miss @0 FA', 'FA/h on B', 'miss @1 FA/h', 'FA/h on B', 'thr0', 'thr1'],
      ...r.map((x) => [x.term, x.positives, round(x.miss0, 3), round(x.fa0B, 2), round(x.miss1, 3), round(x.fa1B, 2), round(x.thr0, 3), round(x.thr1, 3)]),
      line('mean', means(r)), line('mean B->A', means(rBA)), line('mean both', means(pooled)),
    ]) + (def ? `\nat the default setting (${def.threshold}): mean found ${def.meanFound} of positives (both parts), ${def.termsHalfFound} of ${def.terms} terms found at least half the time, ${def.faPerHour} FA/h over these terms on all negatives` : ''));
  };
  /** Thresholds chosen on one part, measured on the other, both ways. */
  const folds = (A: { pos: Scored[]; neg: Scored[] }, B: { pos: Scored[]; neg: Scored[] }): [TermResult[], TermResult[]] => [
    evaluate(terms, { ...A, part: parts[0]! }, { ...B, part: parts[1]! }), evaluate(terms, { ...B, part: parts[1]! }, { ...A, part: parts[0]! }),
  ];
  const run = async (p: BenchPart, heads: TermHeads | null, embedding: SpeechEmbedding | null, phoneModel: AcousticModel = model): Promise<{ pos: Scored[]; neg: Scored[]; rtf: number }> => {
    const out: { pos: Scored[]; neg: Scored[]; rtf: number } = { pos: [], neg: [], rtf: 0 };
    let sec = 0, audio = 0;
    for (const kind of ['pos', 'neg'] as const) {
      const samples = kind === 'pos' ? p.positives.samples : p.negatives.samples;
      const scored = out[kind];
      const cols = heads ? terms.map((t) => heads.termIndex.get(t)) : [];
      const r = await detectSamples(`${p.name}-${kind}`, samples, {
        // Scoring passes: the heads report nothing (threshold above 1), every hop's scores are kept.
        model: phoneModel, keywords: heads ? specs.map((k) => ({ ...k, threshold: 2 })) : specs, search: { refractorySec: 0.3 },
        heads: heads && embedding ? {
          embedding, heads, scorePivot: 0.5,
          onScores: (endSec, scores) => terms.forEach((term, i) => { if (cols[i] !== undefined) scored.push({ term, time: endSec, score: scores[cols[i]!]! }); }),
        } : undefined,
      });
      if (!heads) for (const d of r.detections) scored.push({ term: d.term, time: d.end, score: d.confidence });
      sec += r.timings.modelSec + r.timings.vadSec + r.timings.searchSec;
      audio += samples.length / SAMPLE_RATE;
    }
    out.rtf = sec / audio;
    return out;
  };
  const headsDirs = (values.heads ?? path.join(repoRoot, 'models/gearhear-heads')).split(',');
  if (detectors.has('heads')) {
    const embedding = await SpeechEmbedding.load({ embeddingFile: await embeddingFileFor(embeddingChoice) });
    // Compiled heads are fitted from random synthesis: --compile-seeds gives a table per seed and their mean.
    const seeds = values.compile ? values['compile-seeds']!.split(',').map(Number) : [0];
    const headsThreshold = Number(values['heads-threshold'] ?? SCHEMA.model.headsThreshold.default);
    for (const dir of headsDirs) {
      const shippedHeads = await TermHeads.load(dir);
      const perSeed = new Map<number, Array<{ both: { meanMiss0: number; meanMiss1: number }; def: ReturnType<typeof atDefault> }>>();
      for (const seed of seeds) {
        let heads = shippedHeads;
        if (values.compile) {
          // gearhear vocab compile's heads for the terms these heads lack, timed (always compiled afresh).
          const outPath = path.join(await cacheDir('wakeword'), `compiled-${shippedHeads.manifest.sha256.slice(0, 12)}-${path.basename(termsFile, '.txt')}-seed${seed}${values['compile-context'] ? '-context' : ''}${values['compile-real'] ? '-real' : ''}${values['compile-inputs'] === 'features' ? '-features' : ''}-${process.pid}.heads.json`);
          await rm(outPath, { force: true });
          const t1 = Date.now();
          // --compile-context DIR: real running speech of training speakers (DIR/negspeech.i16 and .jsonl, prepare.py) around half the clips.
          const context = values['compile-context'] ? await ContextSpeech.open(path.join(values['compile-context'], 'negspeech.i16'), path.join(values['compile-context'], 'negspeech.jsonl'), await trainSpeechTexts()) : undefined;
          // --compile-real SOURCES: the terms' occurrences in real transcribed speech of training speakers as positives too.
          const realSpeech = values['compile-real'] ? await trainingRealSpeech(values['compile-real'].split(',')) : undefined;
          const r = await new HeadCompiler({ context, realSpeech, realPerTerm: Number(values['compile-real-per-term']), realUnits: values['compile-real-units'] as RealUnits, realNegativeMinutes: Number(values['compile-real-negatives']), inputs: values['compile-inputs'] as HeadInputs, patienceHops: Number(values['compile-bias-patience']), voices: await benchVoices(values['compile-voices']),
            heads: shippedHeads, embedding, bank: await NegativeBank.load(dir), scorePivot: Number(SCHEMA.model.headsThreshold.default), outPath, seed,
            ...(values['compile-clips'] ? { clipsPerTerm: Number(values['compile-clips']) } : {}),
          }).compile(termsFile);
          await context?.close();
          log(`compiled heads (seed ${seed}) for ${r.compiled.length} terms in ${((Date.now() - t1) / 1000).toFixed(0)} s (${r.compiled.map((e) => `${e.term} ${e.seconds} s${e.realOccurrences !== undefined ? ` (${e.realOccurrences} real, ${e.realPieces ?? 0} of pieces)` : ''}`).join(', ')})`);
          results[`compiled ${dir} seed ${seed}`] = { terms: r.compiled.map(({ weights: _w, ...e }) => e), seconds: (Date.now() - t1) / 1000 };
          heads = shippedHeads.withCompiled(await loadCompiledHeads(termsFile, shippedHeads, embeddingChoice, outPath));
        }
        log(`heads ${heads.manifest.id} ${heads.manifest.version} from ${dir}${values.compile ? ` + ${heads.compiledTerms} compiled, seed ${seed}` : ''}`);
        const [A, B] = [await run(parts[0]!, heads, embedding), await run(parts[1]!, heads, embedding)];
        const label = `term heads (${heads.manifest.version}, ${path.relative(repoRoot, dir) || dir}${values.compile ? `, compiled${values['compile-context'] ? ' with real context' : ''}${values['compile-real'] ? ` with real ${values['compile-real-units']} (${values['compile-real']}; ${values['compile-real-negatives']} min of real negatives)` : ''}${values['compile-inputs'] === 'features' ? ', reading the features only' : ''}${values['compile-voices'] ? `, voices ${values['compile-voices']}` : ''}${values['compile-bias-patience'] !== '1' ? `, bias set with patience ${values['compile-bias-patience']}` : ''}, seed ${seed}` : ''})`;
        for (const n of patience) {
          const p = (r: typeof A) => ({ pos: patienceScores(r.pos, n), neg: patienceScores(r.neg, n) });
          const name = n === 1 ? label : `${label}, patience ${n} hops`;
          const def = atDefault(p(A), p(B), headsThreshold);
          report(name, ...folds(p(A), p(B)), def);
          const got = results[name] as { bothFolds: { meanMiss0: number; meanMiss1: number } };
          (perSeed.get(n) ?? perSeed.set(n, []).get(n)!).push({ both: got.bothFolds, def });
        }
        log(`heads done, pipeline RTF ${round(B.rtf, 4)}`);
      }
      if (seeds.length > 1) {
        const m = (xs: number[]): number => round(xs.reduce((a, x) => a + x, 0) / xs.length, 3);
        const rowsMean = [...perSeed].map(([n, xs]) => [`patience ${n}`, m(xs.map((x) => x.both.meanMiss0)), m(xs.map((x) => x.both.meanMiss1)), m(xs.map((x) => x.def.meanFound)), m(xs.map((x) => x.def.termsHalfFound)), m(xs.map((x) => x.def.faPerHour))]);
        results[`compiled ${dir} mean over seeds ${seeds.join(',')}`] = rowsMean;
        tables.push(`term heads from ${path.relative(repoRoot, dir) || dir} + compiled, mean over seeds ${seeds.join(', ')}\n` + formatTable([
          ['patience', 'mean miss @0 FA, both folds', 'mean miss @1 FA/h, both folds', `found at ${headsThreshold}`, 'terms found >= half', 'FA/h at default'], ...rowsMean,
        ]));
      }
      await shippedHeads.dispose();
    }
  }
  if (detectors.has('heads+kws')) {
    // Experimental: each term head's score checked against the raw-audio phone model's score for the
    // same term near the same time (as model.phones = both pairs two phone models): the geometric
    // mean, a missing partner counted at the phone search's floor. Not a daemon setting.
    const embedding = await SpeechEmbedding.load({ embeddingFile: await embeddingFileFor(embeddingChoice) });
    const heads = await TermHeads.load(headsDirs[0]!);
    const floor = 0.02, tolerance = 0.4;
    const fuse = (h: Scored[], p: Scored[]): Scored[] => {
      const byTerm = new Map<string, Scored[]>();
      for (const x of p) { if (!byTerm.has(x.term)) byTerm.set(x.term, []); byTerm.get(x.term)!.push(x); }
      for (const l of byTerm.values()) l.sort((a, b) => a.time - b.time);
      return h.map((x) => {
        const l = byTerm.get(x.term) ?? [];
        let lo = 0, hi = l.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (l[mid]!.time < x.time - tolerance) lo = mid + 1; else hi = mid; }
        let partner = floor;
        for (let i = lo; i < l.length && l[i]!.time <= x.time + tolerance; i++) partner = Math.max(partner, l[i]!.score);
        return { term: x.term, time: x.time, score: Math.sqrt(x.score * partner) };
      });
    };
    const both = [];
    for (const p of parts) {
      const h = await run(p, heads, embedding), k = await run(p, null, null);
      both.push({ pos: fuse(h.pos, k.pos), neg: fuse(h.neg, k.neg) });
    }
    report(`term heads ${heads.manifest.version} checked by phone model ${model.version} (experimental)`, ...folds(both[0]!, both[1]!));
    log('heads+kws done');
  }
  if (detectors.has('shipped')) {
    // The shipped vocabulary at its default settings: on part A's negative speech (no vocabulary
    // term is said in it) find the lowest head score (the grid) with at most 1 false alarm per hour
    // summed over all terms, then run the real detector (gearhear detect's path) on part B with it
    // as model.headsThreshold (vocabulary lines with threshold= are stricter, as in the daemon).
    const embedding = await SpeechEmbedding.load({ embeddingFile: await embeddingFileFor(embeddingChoice) });
    const heads = await TermHeads.load(headsDirs[0]!);
    const { specs: shippedSpecs } = await loadVocab(DEFAULT_VOCAB);
    const cols = shippedSpecs.map((k) => heads.termIndex.get(k.term)).filter((c): c is number => c !== undefined);
    const grid = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9998, 0.9999, 0.99995, 0.99999];
    // The detector's own patience: its score sink sees each hop's patient score of every term at or
    // above the grid's lowest threshold (with the pivot 0.5 a confidence is the head score itself).
    const heard = new Map<string, Scored[]>();
    const A = parts[0]!;
    await detectSamples('A-neg', A.negatives.samples, {
      model, keywords: shippedSpecs.map((k) => ({ ...k, threshold: 2 })),
      heads: { embedding, heads, scorePivot: 0.5, patienceHops: detectorPatience },
      scores: { floor: grid[0]!, score: (o) => void (heard.get(o.term) ?? heard.set(o.term, []).get(o.term)!).push({ term: o.term, time: o.end, score: o.score }) },
    });
    const faA = (t: number): number => [...heard].reduce((n, [term, xs]) => n + falseAlarms(xs, term, t), 0) / A.negatives.hours;
    const perThreshold = grid.map((t) => ({ threshold: t, faPerHourA: round(faA(t), 2) }));
    const chosen = perThreshold.find((x) => x.faPerHourA <= 1)?.threshold ?? grid[grid.length - 1]!;
    const B = parts[1]!;
    // The daemon's defaults: a head score of `chosen` is confidence 0.5, the default kws.threshold.
    const r = await detectSamples('B-neg', B.negatives.samples, { model, keywords: shippedSpecs, heads: { embedding, heads, scorePivot: chosen, patienceHops: detectorPatience } });
    const byTerm: Record<string, number> = {};
    for (const d of r.detections) byTerm[d.term] = (byTerm[d.term] ?? 0) + 1;
    results.shipped = { terms: shippedSpecs.length, withHeads: cols.length, patienceHops: detectorPatience, perThreshold, chosen, faPerHourB: round(r.detections.length / B.negatives.hours, 2), falseAlarmsB: byTerm };
    tables.push(`shipped vocabulary (${cols.length} of ${shippedSpecs.length} terms with heads, patience ${detectorPatience}), one threshold for all\n` + formatTable([
      ['threshold', 'FA/h on A (all terms)'], ...perThreshold.map((x) => [x.threshold, x.faPerHourA]),
    ]) + `\nchosen on A: ${chosen}; on B through the detector: ${r.detections.length} false alarms in ${round(B.negatives.hours, 2)} h = ${round(r.detections.length / B.negatives.hours, 2)} per hour ${JSON.stringify(byTerm)}`);
  }
  if (detectors.has('sentences')) {
    // Shipped vocabulary terms said inside real read sentences, through each detector at its defaults
    // (heads: model.headsThreshold 0.95 unless --heads-threshold; phones: kws.threshold 0.5).
    const sentences = await sentencesSayingTerms(shipped.map((l) => l.split('|')[0]!.trim()));
    const { specs: shippedSpecs } = await loadVocab(DEFAULT_VOCAB);
    const embedding = await SpeechEmbedding.load({ embeddingFile: await embeddingFileFor(embeddingChoice) });
    const heads = await TermHeads.load(headsDirs[0]!);
    const pivot = Number(values['heads-threshold'] ?? SCHEMA.model.headsThreshold.default);
    const rowsOut: Array<Array<string | number>> = [];
    const summary: Record<string, unknown> = { utterances: sentences.length };
    for (const name of ['heads', 'phones'] as const) {
      const { found, others } = await findInSentences(sentences, { model, keywords: shippedSpecs, heads: name === 'heads' ? { embedding, heads, scorePivot: pivot, patienceHops: detectorPatience } : undefined });
      summary[name] = { found, others };
      rowsOut.push([name === 'heads' ? `term heads ${heads.manifest.version} (pivot ${pivot}, patience ${detectorPatience})` : `phone model ${model.version} (trained on these)`, `${found} / ${sentences.length}`, others]);
    }
    results.sentences = summary;
    tables.push(`shipped terms inside real read sentences (${sentences.length} utterances of ../shared/train-speech)\n` + formatTable([['detector', 'utterances whose term was found', 'other terms reported'], ...rowsOut]));
    await heads.dispose();
    await embedding.dispose();
  }
  if (detectors.has('defaults')) {
    // Each phone model as the default detector (model.detector = phones) with the shipped vocabulary
    // at its default settings: false alarms per hour on all the negative speech (both parts, no
    // vocabulary term said in it), and the shipped terms found inside real read sentences.
    const { vocab: shippedVocab, specs: shippedSpecs } = await loadVocab(DEFAULT_VOCAB);
    const sentences = await sentencesSayingTerms(shipped.map((l) => l.split('|')[0]!.trim()));
    const emb = await EmbeddingPhoneModel.load({ dir: values.embphones ?? path.join(repoRoot, 'models', EMBEDDING_PHONES_DIR) });
    const rowsOut: Array<Array<string | number>> = [];
    const summary: Record<string, unknown> = {};
    // --calibrations KWS_FILE,EMB_FILE[,BOTH_FILE]: a calibration file per phone model ('-' for none, 'skip' not to run that model), applied as the daemon applies it.
    // Default: the shipped (factory) calibration of each phone model beside the shipped vocabulary, as the daemon uses it.
    const factory = (phones: string): string => { const f = calibrationPathFor(DEFAULT_VOCAB, phones); return existsSync(f) ? f : '-'; };
    const calibrationFiles = (values.calibrations ?? `${factory('kws')},${factory('embedding')},${factory('both')}`).split(',');
    const both = new PairedPhoneModel({ a: model, b: emb, lagFrames: BOTH_LAG_FRAMES });
    const models = [[`phone model ${model.version} (kws)`, model], [`embedding phone model ${emb.version}`, emb], [`both (${both.version}, paired search)`, both]] as const;
    for (const [i, [label, m]] of models.entries()) {
      const file = calibrationFiles[i] ?? '-';
      if (file === 'skip') continue;
      // The daemon's own check and per-term rule; a file that does not fit this model is an error here.
      const c = file === '-' ? null : await calibrationFor(file, calibrationIdentity([m], shippedVocab, 0));
      if (c && !c.status.used) throw new Error(`${file}: ${c.status.problem ?? 'no such file'}`);
      const thresholds = c?.thresholds ?? undefined;
      const name = c ? `${label}, calibrated (${path.basename(file)})` : label;
      const byTerm: Record<string, number> = {};
      let hours = 0, fa = 0;
      for (const p of parts) {
        const r = await detectSamples(`${p.name}-neg`, p.negatives.samples, { model: m, keywords: shippedSpecs, thresholds });
        for (const d of r.detections) byTerm[d.term] = (byTerm[d.term] ?? 0) + 1;
        fa += r.detections.length;
        hours += p.negatives.hours;
      }
      const { found, others, foundTerms } = await findInSentences(sentences, { model: m, keywords: shippedSpecs, thresholds });
      const top = Object.entries(byTerm).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([t, n]) => `${t} ${n}`).join(', ');
      summary[name] = { faPerHour: round(fa / hours, 2), falseAlarms: byTerm, sentencesFound: found, sentences: sentences.length, foundTerms, otherTermsInSentences: others };
      rowsOut.push([name, round(fa / hours, 2), top, `${found} / ${sentences.length}`, others]);
      log(`defaults: ${name} done`);
    }
    results.defaults = summary;
    tables.push(`shipped vocabulary at default settings (kws.threshold 0.5), each phone model as the detector
` + formatTable([
      ['phone model', 'FA/h on all negative speech', 'most frequent', 'sentences whose term was found', 'other terms in them'], ...rowsOut,
    ]));
    await emb.dispose();
  }
  if (detectors.has('phones')) {
    const [A, B] = [await run(parts[0]!, null, null), await run(parts[1]!, null, null)];
    report(`phone model ${model.version}`, ...folds(A, B), atDefault(A, B, Number(SCHEMA.kws.threshold.default)));
    log(`phones done, pipeline RTF ${round(B.rtf, 4)}`);
  }
  if (detectors.has('both')) {
    // model.phones = both: the phone model and the embedding phone head side by side, the paired search.
    const emb = await EmbeddingPhoneModel.load({ dir: values.embphones ?? path.join(repoRoot, 'models', EMBEDDING_PHONES_DIR) });
    const both = new PairedPhoneModel({ a: model, b: emb, lagFrames: BOTH_LAG_FRAMES });
    const [A, B] = [await run(parts[0]!, null, null, both), await run(parts[1]!, null, null, both)];
    report(`both phone models (${both.version}, paired search)`, ...folds(A, B));
    log(`both done, pipeline RTF ${round(B.rtf, 4)}`);
    await emb.dispose();
  }
  if (detectors.has('embphones')) {
    // The open-vocabulary phone head on the speech embedding (models/gearhear-embphones).
    const emb = await EmbeddingPhoneModel.load({ dir: values.embphones ?? path.join(repoRoot, 'models', EMBEDDING_PHONES_DIR) });
    const [A, B] = [await run(parts[0]!, null, null, emb), await run(parts[1]!, null, null, emb)];
    report(`embedding phone model ${emb.version}`, ...folds(A, B));
    log(`embphones done, pipeline RTF ${round(B.rtf, 4)}`);
    await emb.dispose();
  }
  if (detectors.has('pocketsphinx')) {
    // PocketSphinx has no per-detection score: its threshold is the keyword exponent per phone.
    const dir = await cacheDir('wakeword');
    const sweep = (values['psx-sweep'] ?? '-2,-1,-0.5,0,0.5,1').split(',').map(Number);
    const scoredFor = async (p: BenchPart): Promise<{ pos: Scored[]; neg: Scored[] }> => {
      const out = { pos: [] as Scored[], neg: [] as Scored[] };
      for (const kind of ['pos', 'neg'] as const) {
        const wav = path.join(dir, `${path.basename(termsFile, ".txt")}-${p.name}-${kind}.wav`);
        await writeWav(wav, kind === 'pos' ? p.positives.samples : p.negatives.samples);
        for (const [i, e] of sweep.entries()) {
          const r = await runPocketsphinx(wav, terms, termsFile, { exponentPerPhone: e });
          // Found at a stricter exponent (smaller per-phone exponent, earlier in the sweep) scores higher.
          for (const d of r.detections) out[kind].push({ term: d.term, time: d.end, score: (sweep.length - i) / sweep.length });
        }
      }
      return out;
    };
    const [A, B] = [await scoredFor(parts[0]!), await scoredFor(parts[1]!)];
    const dedupe = (xs: Scored[]): Scored[] => xs.sort((a, b) => a.time - b.time);
    report('pocketsphinx kws', ...folds({ pos: dedupe(A.pos), neg: dedupe(A.neg) }, { pos: dedupe(B.pos), neg: dedupe(B.neg) }));
  }
  process.stdout.write(tables.join('\n\n') + '\n');
  if (values.out) await writeFile(values.out, JSON.stringify(results, null, 1));
  await model.dispose();
}

await main();

