/**
 * The real-speech benchmark (Picovoice wake-word-benchmark protocol, bench/lib/wakeword-data.ts):
 * per-term miss rate at 0 false alarms and at <= 1 false alarm per hour, thresholds chosen on part A
 * and reported on part B, for the term heads (the default detector), the phone model and
 * PocketSphinx keyword spotting on the same audio.
 *
 *   npm run bench:wakeword -- [--detectors heads,phones,pocketsphinx] [--max-per-term N] [--neg-hours H] [--out FILE]
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SAMPLE_RATE } from '../src/audio/types.js';
import { detectSamples } from '../src/cli/detect.js';
import { SpeechEmbedding } from '../src/model/speech-embedding.js';
import { TermHeads } from '../src/model/term-heads.js';
import { cacheDir, formatTable, repoRoot, round, writeWav } from './lib/common.js';
import { runPocketsphinx } from './lib/pocketsphinx.js';
import { DEFAULT_MODEL_DIR, DEFAULT_VOCAB, loadModel, loadVocab } from './lib/setup.js';
import { buildBench, readTerms, TERMS_FILE, type BenchPart, type Span } from './lib/wakeword-data.js';

const SLACK_BEFORE = 0.25;
const SLACK_AFTER = 0.6;
const REFRACTORY = 1.0;

/** A scored moment: a head's per-hop score, or a phone-model detection's confidence. */
interface Scored { term: string; time: number; score: number }

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
      detectors: { type: 'string', default: 'heads,phones,pocketsphinx' }, 'max-per-term': { type: 'string', default: '30' },
      'neg-hours': { type: 'string', default: '0' }, heads: { type: 'string' }, out: { type: 'string' },
    },
  });
  const detectors = new Set(values.detectors!.split(','));
  const terms = await readTerms();
  const shipped = await readTerms(DEFAULT_VOCAB);
  const t0 = Date.now();
  const log = (m: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);
  log('building the benchmark audio');
  const parts = await buildBench(terms, { excludeTerms: shipped.map((l) => l.split('|')[0]!.trim()), maxPerTerm: Number(values['max-per-term']), maxNegativeHours: Number(values['neg-hours']) });
  for (const p of parts) log(`part ${p.name}: ${p.positives.spans.length} words, ${round(p.negatives.hours, 2)} h of negative speech (${p.negatives.utterances} utterances)`);
  const { specs } = await loadVocab(TERMS_FILE, 0.02);
  const model = await loadModel(DEFAULT_MODEL_DIR);
  const results: Record<string, unknown> = { terms, parts: parts.map((p) => ({ name: p.name, words: p.positives.spans.length, negativeHours: round(p.negatives.hours, 3) })) };
  const tables: string[] = [];
  const report = (name: string, r: TermResult[]): void => {
    const mean = (f: (x: TermResult) => number): number => round(r.filter((x) => x.positives > 0).reduce((a, x) => a + f(x), 0) / r.filter((x) => x.positives > 0).length, 3);
    results[name] = { perTerm: r, meanMiss0: mean((x) => x.miss0), meanMiss1: mean((x) => x.miss1), meanFa0B: mean((x) => x.fa0B), meanFa1B: mean((x) => x.fa1B) };
    tables.push(`${name}\n` + formatTable([
      ['term', 'words (B)', 'miss @0 FA', 'FA/h on B', 'miss @1 FA/h', 'FA/h on B', 'thr0', 'thr1'],
      ...r.map((x) => [x.term, x.positives, round(x.miss0, 3), round(x.fa0B, 2), round(x.miss1, 3), round(x.fa1B, 2), round(x.thr0, 3), round(x.thr1, 3)]),
      ['mean', '', mean((x) => x.miss0), mean((x) => x.fa0B), mean((x) => x.miss1), mean((x) => x.fa1B), '', ''],
    ]));
  };
  const run = async (p: BenchPart, heads: TermHeads | null, embedding: SpeechEmbedding | null): Promise<{ pos: Scored[]; neg: Scored[]; rtf: number }> => {
    const out: { pos: Scored[]; neg: Scored[]; rtf: number } = { pos: [], neg: [], rtf: 0 };
    let sec = 0, audio = 0;
    for (const kind of ['pos', 'neg'] as const) {
      const samples = kind === 'pos' ? p.positives.samples : p.negatives.samples;
      const scored = out[kind];
      const cols = heads ? terms.map((t) => heads.termIndex.get(t)) : [];
      const r = await detectSamples(`${p.name}-${kind}`, samples, {
        model, keywords: specs, search: { refractorySec: 0.3 },
        heads: heads && embedding ? {
          embedding, heads, defaultThreshold: 1.01,
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
  if (detectors.has('heads')) {
    const embedding = await SpeechEmbedding.load();
    const heads = await TermHeads.load(values.heads ?? path.join(repoRoot, 'models/gearhear-heads'));
    log(`heads ${heads.manifest.id} ${heads.manifest.version}`);
    const [A, B] = [await run(parts[0]!, heads, embedding), await run(parts[1]!, heads, embedding)];
    report(`term heads (${heads.manifest.version})`, evaluate(terms, { ...A, part: parts[0]! }, { ...B, part: parts[1]! }));
    log(`heads done, pipeline RTF ${round(B.rtf, 4)}`);
  }
  if (detectors.has('phones')) {
    const [A, B] = [await run(parts[0]!, null, null), await run(parts[1]!, null, null)];
    report(`phone model ${model.version}`, evaluate(terms, { ...A, part: parts[0]! }, { ...B, part: parts[1]! }));
    log(`phones done, pipeline RTF ${round(B.rtf, 4)}`);
  }
  if (detectors.has('pocketsphinx')) {
    // PocketSphinx has no per-detection score: its threshold is the keyword exponent per phone.
    const dir = await cacheDir('wakeword');
    const sweep = [0.5, 1, 1.5, 2, 3];
    const scoredFor = async (p: BenchPart): Promise<{ pos: Scored[]; neg: Scored[] }> => {
      const out = { pos: [] as Scored[], neg: [] as Scored[] };
      for (const kind of ['pos', 'neg'] as const) {
        const wav = path.join(dir, `${p.name}-${kind}.wav`);
        await writeWav(wav, kind === 'pos' ? p.positives.samples : p.negatives.samples);
        for (const [i, e] of sweep.entries()) {
          const r = await runPocketsphinx(wav, terms, TERMS_FILE, { exponentPerPhone: e });
          // Found at a stricter exponent (smaller per-phone exponent, earlier in the sweep) scores higher.
          for (const d of r.detections) out[kind].push({ term: d.term, time: d.end, score: (sweep.length - i) / sweep.length });
        }
      }
      return out;
    };
    const [A, B] = [await scoredFor(parts[0]!), await scoredFor(parts[1]!)];
    const dedupe = (xs: Scored[]): Scored[] => xs.sort((a, b) => a.time - b.time);
    report('pocketsphinx kws', evaluate(terms, { pos: dedupe(A.pos), neg: dedupe(A.neg), part: parts[0]! }, { pos: dedupe(B.pos), neg: dedupe(B.neg), part: parts[1]! }));
  }
  process.stdout.write(tables.join('\n\n') + '\n');
  if (values.out) await writeFile(values.out, JSON.stringify(results, null, 1));
  await model.dispose();
}

await main();
