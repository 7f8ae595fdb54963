/**
 * `gearhear vocab compile` for the term heads: a head for every vocabulary term the shipped heads
 * lack, written to `<vocab>.heads.json` beside the vocabulary (as its lexicon is). Each head is a
 * logistic unit on the shipped heads' `features`, fitted on the term said by many synthesised voices
 * (alone, after a carrier phrase, inside a sentence; in noise) against the negative embedding bank
 * (real speech without vocabulary terms, synthesised sentences, machine noise), the same voices
 * saying the carrier sentences without the term, the term cut short, and the other new terms. Its
 * bias is then lowered until a fifth of the bank held out from fitting stays below `scorePivot`.
 */
import { open, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { concatSamples, scaledCopy } from '../audio/pcm.js';
import { silentLogger, type Logger } from '../log.js';
import type { NegativeBank } from '../model/negative-bank.js';
import { HOP_SAMPLES, INT16_SCALE, type SpeechEmbedding } from '../model/speech-embedding.js';
import { headInputs, windowsEndingAt, type TermHeads } from '../model/term-heads.js';
import { fitUnit, patientValues, unitLogits, type Rows } from './head-fit.js';
import { COMPILED_EMBEDDING, COMPILED_HEADS_FORMAT, compiledHeadsPathFor, readCompiledHeadsFile, type CompiledHeadsFile, type CompiledTermEntry } from './compiled-heads.js';
import { describeVoices, installedVoices, pick, randomVoice, sayTerm, seededRandom, synthesize, CARRIER_PREFIXES, CARRIER_SUFFIXES, type OtherVoices, type Placement } from './term-synth.js';
import { loadVocabulary } from './vocabulary.js';
import { decodeWithSox, type RealOccurrence, type RealSpeech } from './real-words.js';
import { PhonePieces, readPronunciations } from './real-pieces.js';
import { lexiconPathFor, loadLexicon, type Lexicon } from './lexicon.js';

const SAMPLE_RATE = 16000;
const PLACEMENTS: Placement[] = ['alone', 'after carrier', 'in sentence'];

export interface HeadCompileOptions {
  heads: TermHeads;
  embedding: SpeechEmbedding;
  bank: NegativeBank;
  /** The head score that is confidence 0.5 (model.headsThreshold). */
  scorePivot: number;
  /** Synthesised clips per term (default 60). */
  clipsPerTerm?: number;
  seed?: number;
  outPath?: string;
  logger?: Logger;
  /**
   * Real running speech to splice the term into (level-matched, real speech before and after it), for
   * half of the clips: see ContextSpeech.open. Without it every clip is synthesised speech only.
   */
  context?: ContextSpeech;
  /**
   * A transcribed real speech corpus: each term's occurrences in it (force-aligned) become positives
   * too, in their own sentence and cut out alone (see real-words.ts). Without it, synthesis only.
   */
  realSpeech?: RealSpeech;
  /** Occurrences of each term taken from `realSpeech` (default 60; each gives two clips). */
  realPerTerm?: number;
  /**
   * What the real positives are made of: whole occurrences of the term (`words`), the term put
   * together from real phones of the corpus (`pieces`, real-pieces.ts), or whole occurrences topped
   * up with made ones up to `realPerTerm` (`words+pieces`, the default).
   */
  realUnits?: RealUnits;
  /**
   * Minutes of `realSpeech` that say none of the new terms, as real negatives: four fifths to fit
   * against, one fifth held out with the bank's to set the bias (default 20; 0: none).
   */
  realNegativeMinutes?: number;
  /**
   * What a head reads: the shipped heads' features and the window's embeddings themselves (a linear
   * template on the speech embedding beside the heads' view of it; 2,048 weights a term, the default),
   * or the features alone (512; how heads were compiled before session 11).
   */
  inputs?: HeadInputs;
  /**
   * Set the bias on the held-out negatives with this patience (a hop counts only when held this many
   * hops in a row, as model.headsPatience reports). Default 1, every hop: stricter. Measured with 3
   * (bench --compile-bias-patience 3): 42 % of unseen words found at the default setting instead of
   * 13-19 %, but 9.4 false alarms per hour over 7 terms instead of 0.9-1.3, so `vocab compile` keeps 1.
   */
  patienceHops?: number;
  /** The voices of synthesisers besides espeak-ng to use (default: every one installed; see term-synth.ts). */
  voices?: OtherVoices;
  /** Called as each new term's clips are made and each head is fitted (a progress line). */
  onProgress?: (p: CompileProgress) => void;
}

export type RealUnits = 'words' | 'pieces' | 'words+pieces';
export type HeadInputs = 'features' | 'features+window';

export interface CompileProgress {
  stage: 'clips' | 'fit';
  term: string;
  /** 1-based position of the term among the terms being compiled. */
  index: number;
  total: number;
}

/**
 * Real running speech of training speakers (never the benchmark's held-out speakers) as context for
 * compiled positives: a 16 kHz int16 file of utterances end to end and its index (one JSON line per
 * utterance: offset, samples, path), e.g. models/training/heads/prepare.py's negspeech.i16 and
 * negspeech.jsonl. Read a piece at a time (the file is not held in memory). An utterance whose
 * transcript (`texts`, by path) says the term is never used for that term.
 */
export class ContextSpeech {
  private constructor(private readonly fh: FileHandle, private readonly index: Array<{ offset: number; samples: number; text: string }>) {}

  static async open(i16File: string, jsonlFile: string, texts: ReadonlyMap<string, string> = new Map()): Promise<ContextSpeech> {
    const index = (await readFile(jsonlFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { offset: number; samples: number; path?: string })
      .filter((r) => r.samples >= SAMPLE_RATE).map((r) => ({ offset: r.offset, samples: r.samples, text: ` ${(texts.get(r.path ?? '') ?? '').toLowerCase()} ` }));
    if (index.length === 0) throw new Error(`${jsonlFile}: no utterance of a second or more`);
    return new ContextSpeech(await open(i16File, 'r'), index);
  }

  /** `sec` seconds of one utterance that does not say `term` (its start when `fromStart`, else its end). */
  async piece(term: string, sec: number, fromStart: boolean, rng: () => number): Promise<Float32Array> {
    let u = this.index[Math.floor(rng() * this.index.length)]!;
    for (let k = 0; k < 20 && u.text.includes(` ${term} `); k++) u = this.index[Math.floor(rng() * this.index.length)]!;
    const n = Math.min(u.samples, Math.floor(sec * SAMPLE_RATE));
    const at = u.offset + (fromStart ? 0 : u.samples - n);
    const buf = Buffer.alloc(n * 2);
    await this.fh.read(buf, 0, n * 2, at * 2);
    const pcm = new Int16Array(buf.buffer, buf.byteOffset, n);
    return scaledCopy(pcm, 1 / 32768);
  }

  async close(): Promise<void> { await this.fh.close(); }
}

const rmsOf = (x: Float32Array): number => { let s = 0; for (const v of x) s += v * v; return Math.sqrt(s / Math.max(1, x.length)); };

/** The term between real speech (0.3-1.5 s before, 0-1 s after), its level within ±4 dB of the context's. */
async function spliceIntoSpeech(term: string, speech: Float32Array, context: ContextSpeech, rng: () => number): Promise<{ speech: Float32Array; end: number }> {
  const before = await context.piece(term, 0.3 + rng() * 1.2, false, rng);
  const after = rng() < 0.8 ? await context.piece(term, rng(), true, rng) : new Float32Array(0);
  const gap = (): Float32Array => new Float32Array(Math.floor(rng() * 0.08 * SAMPLE_RATE));
  const g = (rmsOf(before) + 1e-6) / (rmsOf(speech) + 1e-9) * 10 ** ((rng() * 8 - 4) / 20);
  const said = Float32Array.from(speech, (v) => v * g);
  const pre = concatSamples([before, gap()]);
  // Back to the synthesiser's level range so place() treats it as any other clip.
  return { speech: peakNormalised(concatSamples([pre, said, gap(), after])), end: pre.length + said.length };
}

/** Scaled so its peak is 0.9, as the synthesisers' clips are. */
function peakNormalised(x: Float32Array): Float32Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  return peak > 0 ? Float32Array.from(x, (v) => v / peak * 0.9) : x;
}

/**
 * Two clips of a real occurrence: the term inside its own sentence (0.3-1.5 s of the speaker's speech
 * before it, 0-1 s after) and the term cut out alone (50 ms either side).
 */
export function realClips(o: RealOccurrence, rng: () => number): Array<{ speech: Float32Array; end: number }> {
  const from = Math.max(0, o.start - Math.floor((0.3 + rng() * 1.2) * SAMPLE_RATE));
  const to = Math.min(o.speech.length, o.end + Math.floor(rng() * SAMPLE_RATE));
  const pad = SAMPLE_RATE / 20, a = Math.max(0, o.start - pad), b = Math.min(o.speech.length, o.end + pad);
  return [
    { speech: peakNormalised(o.speech.slice(from, to)), end: o.end - from },
    { speech: peakNormalised(o.speech.slice(a, b)), end: o.end - a },
  ];
}

export interface HeadCompileResult {
  outPath: string;
  /** Terms the shipped heads already have. */
  shipped: string[];
  compiled: CompiledTermEntry[];
  /** Terms whose head in the existing file was kept (same heads, same settings). */
  cached: string[];
}

interface TermClips {
  term: string;
  pos: Float32Array[];
  /** Windows of the term cut short and of the same voices without the term. */
  neg: Float32Array[];
  durations: number[];
  /** Real occurrences among the positives, whole and made of pieces (each gave two clips). */
  real: number;
  pieces: number;
}

/** Low-passed white noise (a rough machine hum), at `snrDb` under the clip's speech power. */
export function addNoise(x: Float32Array, snrDb: number, rng: () => number): void {
  let power = 0;
  for (const v of x) power += v * v;
  power /= x.length;
  const noise = new Float32Array(x.length);
  let state = 0, np = 0;
  const a = 0.6 + rng() * 0.35;
  for (let i = 0; i < x.length; i++) {
    state = a * state + (1 - a) * (rng() * 2 - 1);
    noise[i] = state;
    np += state * state;
  }
  const gain = Math.sqrt((power / Math.max(np / x.length, 1e-12)) * 10 ** (-snrDb / 10));
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + noise[i]! * gain;
}

/** Silence-padded, maybe noisy, int16-range clip with `speech` starting after a random lead. */
function place(speech: Float32Array, rng: () => number): { pcm: Float32Array; lead: number } {
  const lead = Math.floor(SAMPLE_RATE * (0.3 + rng() * 0.5));
  const x = new Float32Array(lead + speech.length + Math.floor(SAMPLE_RATE * 0.4));
  const gain = 0.3 + rng() * 0.7;
  for (let i = 0; i < speech.length; i++) x[lead + i] = speech[i]! * gain;
  if (rng() < 0.7) addNoise(x, 5 + rng() * 20, rng);
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-1, Math.min(1, x[i]!)) * INT16_SCALE;
  return { pcm: x, lead };
}

export class HeadCompiler {
  private readonly rng: () => number;
  private init: Float32Array | null = null;

  constructor(private readonly opts: HeadCompileOptions) {
    this.rng = seededRandom(opts.seed ?? 1);
  }

  private get readsWindow(): boolean {
    return (this.opts.inputs ?? 'features+window') === 'features+window';
  }

  /** What a head reads of each of `n` windows, written out: the shipped heads' features, and (inputs features+window) the window itself. */
  private async features(windows: Float32Array, n: number): Promise<Float32Array> {
    const per = this.opts.heads.manifest.window * this.opts.heads.manifest.dim;
    return headInputs(await this.featuresOnly(windows, n), this.featureDim, windows, per, n, this.readsWindow);
  }

  /**
   * The rows of `n` windows ending at consecutive hops of one recording (the bank's, real negatives):
   * their features, and with window inputs the hops they span once (not 16 copies: see Rows' tail).
   */
  private async consecutiveRows(windows: Float32Array, n: number): Promise<Rows> {
    const { heads } = this.opts, { window: win, dim: edim } = heads.manifest, per = win * edim;
    if (!this.readsWindow) return { data: await this.featuresOnly(windows, n), dim: this.featureDim };
    const hops = new Float32Array((n + win - 1) * edim);
    hops.set(windows.subarray(0, per));
    for (let i = 1; i < n; i++) hops.set(windows.subarray(i * per + per - edim, (i + 1) * per), (i + win - 1) * edim);
    return { data: await this.featuresOnly(windows, n), dim: this.featureDim + per, tail: { values: hops, stride: edim, length: per } };
  }

  private featureDim = 0;
  private async featuresOnly(windows: Float32Array, n: number): Promise<Float32Array> {
    const { heads } = this.opts, per = heads.manifest.window * heads.manifest.dim;
    const parts: Float32Array[] = [];
    for (let b = 0; b < n; b += 512) {
      const m = Math.min(512, n - b), r = await heads.run(windows.subarray(b * per, (b + m) * per), m);
      this.featureDim = r.featureDim;
      parts.push(Float32Array.from(r.features));
    }
    return concatSamples(parts);
  }

  /** Synthesised clips of `term` -> windows: positives (ending 0-3 hops after the term), negatives. */
  /** Features of every window of `minutes` of the corpus's utterances that say none of `terms` (placed and noised as positives are); every fifth utterance (the fifth, tenth, ...) held out. */
  private async realNegatives(terms: readonly string[], minutes: number): Promise<{ fit: Rows[]; held: Rows[] }> {
    const { embedding, heads } = this.opts, win = heads.manifest.window;
    // A generator of its own, so the clips are the same with and without real negatives.
    const rng = seededRandom((this.opts.seed ?? 1) + 7919);
    this.init ??= await embedding.initialEmbedding();
    const rows = (this.opts.realSpeech?.rows ?? []).filter((r) => !terms.some((t) => ` ${r.text} `.includes(` ${t} `)))
      .map((r) => ({ r, k: rng() })).sort((a, b) => a.k - b.k).map((x) => x.r);
    const out = { fit: [] as Rows[], held: [] as Rows[] };
    let samples = 0;
    for (const [i, r] of rows.entries()) {
      if (samples >= minutes * 60 * SAMPLE_RATE) break;
      const speech = await decodeWithSox(r.file).catch(() => null);
      if (!speech || speech.length < SAMPLE_RATE / 2) continue;
      samples += speech.length;
      const { pcm } = place(peakNormalised(speech), rng);
      const e = await embedding.embedAsStream(pcm);
      const f = await this.consecutiveRows(windowsEndingAt(e.data, this.init, win, Array.from({ length: e.count }, (_, j) => j + 1)), e.count);
      (i % 5 === 4 ? out.held : out.fit).push(f);
    }
    return out;
  }

  /** Each word's first pronunciation, from the lexicon or the CMU dictionary; null when a word has none. */
  private async phonesOf(term: string, lexicon: Lexicon | null): Promise<string[] | null> {
    const dict = await this.pronunciations();
    const per = term.split(/\s+/).map((w) => lexicon?.words.get(w)?.[0]?.map(String) ?? dict.get(w) ?? null);
    return per.every((p) => p !== null) ? (per as string[][]).flat() : null;
  }

  /** The term's real occurrences, whole and made from pieces (see realUnits). */
  private async realOccurrences(term: string, phones: string[] | null): Promise<{ words: RealOccurrence[]; pieces: RealOccurrence[] }> {
    const { realSpeech } = this.opts, mode = this.opts.realUnits ?? 'words+pieces', max = this.opts.realPerTerm ?? 60;
    if (!realSpeech) return { words: [], pieces: [] };
    const words = mode === 'pieces' ? [] : await realSpeech.occurrences(term, max, this.rng);
    if (mode === 'words' || words.length >= max || !phones) return { words, pieces: [] };
    this.pieceIndex ??= PhonePieces.build(realSpeech.rows, await this.pronunciations());
    return { words, pieces: await this.pieceIndex.occurrences(term, phones, max - words.length, this.rng) };
  }

  private pieceIndex: PhonePieces | null = null;
  private dict: Map<string, string[]> | null = null;
  /** The CMU dictionary's pronunciations of the corpus's words and the new terms' words. */
  private async pronunciations(): Promise<Map<string, string[]>> {
    if (!this.dict) {
      const words = new Set((this.opts.realSpeech?.rows ?? []).flatMap((r) => r.text.split(' ')));
      for (const t of this.terms) for (const w of t.split(/\s+/)) words.add(w);
      this.dict = await readPronunciations(undefined, words);
    }
    return this.dict;
  }
  private terms: string[] = [];

  /**
   * One clip of the term (`end`: the sample where it ends), placed and embedded as the daemon's stream
   * would: the windows ending 0-3 hops after the term are positives, those ending before it negatives.
   */
  private async addClip(out: TermClips, said: { speech: Float32Array; end: number }, durationSec: number): Promise<void> {
    const { embedding, heads } = this.opts, win = heads.manifest.window;
    const { pcm, lead } = place(said.speech, this.rng);
    const { data, count: hops } = await embedding.embedAsStream(pcm);
    const ke = Math.ceil((lead + said.end) / HOP_SAMPLES);
    out.pos.push(windowsEndingAt(data, this.init!, win, [ke, ke + 1, ke + 2, ke + 3].filter((k) => k <= hops)));
    out.neg.push(windowsEndingAt(data, this.init!, win, Array.from({ length: Math.max(0, Math.min(ke - 3, hops)) }, (_, j) => j + 1)));
    out.durations.push(durationSec);
  }

  private async clips(term: string, count: number, engines: OtherVoices, phones: string[] | null): Promise<TermClips> {
    const found = await this.realOccurrences(term, phones);
    const real = [...found.words, ...found.pieces];
    const { embedding, heads } = this.opts, win = heads.manifest.window;
    this.init ??= await embedding.initialEmbedding();
    const out: TermClips = { term, pos: [], neg: [], durations: [], real: 0, pieces: 0 };
    for (let i = 0; i < count; i++) {
      const voice = randomVoice(this.rng, engines);
      const { context } = this.opts;
      // With real context speech, every other clip is the term said alone and spliced into it.
      const spliced = context !== undefined && i % 2 === 1;
      const placement = context ? (spliced ? 'alone' : PLACEMENTS[(i >> 1) % PLACEMENTS.length]!) : PLACEMENTS[i % PLACEMENTS.length]!;
      let said = await sayTerm(term, voice, placement, this.rng);
      if (spliced) said = await spliceIntoSpeech(term, said.speech, context, this.rng);
      await this.addClip(out, said, said.end / SAMPLE_RATE);
      if (i % 3 === 0) { // the same voice without the term
        const other = await synthesize(`${pick(this.rng, CARRIER_PREFIXES)} ${pick(this.rng, CARRIER_SUFFIXES)}`, voice);
        const placed = place(other, this.rng);
        const e = await embedding.embedAsStream(placed.pcm);
        out.neg.push(windowsEndingAt(e.data, this.init, win, Array.from({ length: e.count }, (_, j) => j + 1)));
      }
    }
    for (const o of real) {
      // Before a real term: the speaker's own speech without it (or silence), a real negative.
      for (const said of realClips(o, this.rng)) await this.addClip(out, said, (o.end - o.start) / SAMPLE_RATE);
    }
    out.real = found.words.length;
    out.pieces = found.pieces.length;
    return out;
  }

  async compile(vocabPath: string): Promise<HeadCompileResult> {
    const { heads, bank, scorePivot } = this.opts, logger = this.opts.logger ?? silentLogger;
    const clipsPerTerm = this.opts.clipsPerTerm ?? 60;
    const outPath = this.opts.outPath ?? compiledHeadsPathFor(vocabPath);
    const vocab = await loadVocabulary(vocabPath);
    const shippedTerms = new Set(heads.manifest.terms.map((t) => t.term));
    const terms = [...new Set(vocab.terms.map((t) => t.term))];
    const shipped = terms.filter((t) => shippedTerms.has(t));
    const wanted = terms.filter((t) => !shippedTerms.has(t));
    const previous = await readCompiledHeadsFile(outPath).catch(() => null);
    const engines = this.opts.voices ?? await installedVoices(), voices = describeVoices(engines);
    const realSpeech = this.opts.realSpeech ? { manifest: this.opts.realSpeech.manifest, utterances: this.opts.realSpeech.utterances, perTerm: this.opts.realPerTerm ?? 60, units: this.opts.realUnits ?? 'words+pieces', negativeMinutes: this.opts.realNegativeMinutes ?? 20 } : undefined;
    // The last compile's heads are kept when they were made the same way (an older file lacks the newer fields).
    const recipe = (f: Partial<CompiledHeadsFile>): string => JSON.stringify([f.heads?.sha256, f.clipsPerTerm, f.realSpeech, f.voices ?? ['espeak-ng'], f.inputs ?? 'features', f.patienceHops ?? 1]);
    const reusable = previous && recipe(previous) === recipe({ heads: heads.manifest, clipsPerTerm, realSpeech, voices, inputs: this.readsWindow ? 'features+window' : undefined, patienceHops: this.opts.patienceHops ?? 1 }) ? previous : null;
    const cached = wanted.filter((t) => reusable?.terms.some((e) => e.term === t));
    const todo = wanted.filter((t) => !cached.includes(t));
    const entries: CompiledTermEntry[] = reusable ? reusable.terms.filter((e) => cached.includes(e.term)) : [];
    const compiled: CompiledTermEntry[] = [];
    if (todo.length > 0) {
      const t0 = performance.now();
      const win = heads.manifest.window;
      // The bank's features: four fifths to fit against, one fifth held out to set the bias.
      const bankFit: Rows[] = [], bankHeld: Rows[] = [];
      for (const held of [false, true]) {
        for (const b of bank.windows(win, (s) => (s % 5 === 0) === held)) (held ? bankHeld : bankFit).push(await this.consecutiveRows(b.data, b.count));
      }
      const dim = (await heads.run(new Float32Array(win * heads.manifest.dim), 1)).featureDim + (this.readsWindow ? win * heads.manifest.dim : 0);
      const realMinutes = this.opts.realSpeech ? this.opts.realNegativeMinutes ?? 20 : 0;
      if (realMinutes > 0) {
        const r = await this.realNegatives(todo, realMinutes);
        bankFit.push(...r.fit);
        bankHeld.push(...r.held);
      }
      // Kept as parts, never joined, each window's hops held once (Rows' tail).
      logger.info('compile heads: negative bank ready', { windows: [...bankFit, ...bankHeld].reduce((a, r) => a + r.data.length, 0) / this.featureDim, seconds: round((performance.now() - t0) / 1000) });
      this.terms = todo;
      // The terms' phones for real pieces: the vocabulary's lexicon (it has G2P words), else the CMU dictionary.
      const lexicon = this.opts.realSpeech ? await loadLexicon(lexiconPathFor(vocabPath)).catch(() => null) : null;
      const all: Array<Omit<TermClips, 'pos' | 'neg'> & { seconds: number; pf: Float32Array; nf: Float32Array }> = [];
      for (const [k, term] of todo.entries()) {
        this.opts.onProgress?.({ stage: 'clips', term, index: k + 1, total: todo.length });
        const t1 = performance.now();
        const c = await this.clips(term, clipsPerTerm, engines, this.opts.realSpeech ? await this.phonesOf(term, lexicon) : null);
        const pos = concatSamples(c.pos), neg = concatSamples(c.neg), per = win * heads.manifest.dim;
        // Only the features are kept for fitting: the windows (6 KB each) are let go term by term.
        const { pos: _p, neg: _n, ...rest } = c;
        all.push({ ...rest, pf: await this.features(pos, pos.length / per), nf: await this.features(neg, neg.length / per), seconds: (performance.now() - t1) / 1000 });
      }
      for (const [k, c] of all.entries()) {
        this.opts.onProgress?.({ stage: 'fit', term: c.term, index: k + 1, total: all.length });
        const t2 = performance.now();
        // The other new terms' positives are negatives here, unless this term is inside them.
        const others = all.filter((o) => o !== c && !` ${o.term} `.includes(` ${c.term} `)).map((o) => o.pf);
        const neg: Rows[] = [...bankFit, { data: c.nf, dim }, ...others.map((data) => ({ data, dim }))];
        const pos: Rows = { data: c.pf, dim };
        const unit = fitUnit(pos, neg);
        const logitsOf = (r: Rows): Float64Array => unitLogits(unit, r);
        const logit = (p: number): number => Math.log(p / (1 - p));
        // The highest held-out negative as the detector sees it: each part is consecutive hops of one recording.
        const patience = this.opts.patienceHops ?? 1;
        const heldMax = bankHeld.reduce((m, r) => { const z = logitsOf(r); return patientValues(z, [z.length], patience).reduce((a, x) => Math.max(a, x), m); }, -Infinity);
        const margin = 0.5;
        const shift = Math.max(0, heldMax - logit(scorePivot) + margin);
        unit.bias -= shift;
        const posLogits = logitsOf(pos);
        const recall = posLogits.filter((z) => z >= logit(scorePivot)).length / posLogits.length;
        const entry: CompiledTermEntry = {
          term: c.term, durationSec: round(median(c.durations)), bias: unit.bias, weights: Array.from(unit.weights, (w) => Number(w.toPrecision(6))),
          clips: c.durations.length, ...(realSpeech ? { realOccurrences: c.real, realPieces: c.pieces } : {}), positives: pos.data.length / dim, negatives: neg.reduce((a, r) => a + r.data.length, 0) / dim, biasLoweredBy: round(shift),
          synthRecallAtPivot: round(recall), seconds: round(c.seconds + (performance.now() - t2) / 1000),
        };
        compiled.push(entry);
        logger.info('compile heads: term', { term: c.term, ...(realSpeech ? { realOccurrences: c.real, realPieces: c.pieces } : {}), seconds: entry.seconds, synthRecallAtPivot: entry.synthRecallAtPivot, biasLoweredBy: entry.biasLoweredBy });
      }
      entries.push(...compiled);
    }
    const file: CompiledHeadsFile = {
      format: COMPILED_HEADS_FORMAT, heads: { id: heads.manifest.id, version: heads.manifest.version, sha256: heads.manifest.sha256 },
      vocabulary: path.basename(vocabPath), embedding: COMPILED_EMBEDDING, scorePivot, clipsPerTerm, voices, ...(realSpeech ? { realSpeech } : {}), ...(this.readsWindow ? { inputs: 'features+window' as const } : {}), patienceHops: this.opts.patienceHops ?? 1, featureDim: entries[0]?.weights.length ?? 0,
      terms: entries.sort((a, b) => terms.indexOf(a.term) - terms.indexOf(b.term)),
    };
    const tmp = `${outPath}.tmp`;
    await writeFile(tmp, JSON.stringify(file) + '\n');
    await rename(tmp, outPath);
    return { outPath, shipped, compiled, cached };
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0.6;
