import { checkVocabulary } from '../kws/lexicon.js';
import { compileVocabulary } from '../kws/compile.js';
import { g2pByName } from '../kws/g2p.js';
import { HeadCompiler, type RealUnits } from '../kws/head-compile.js';
import { RealSpeech } from '../kws/real-words.js';
import { describeVoices, voicesNamed, ENGINE_PACKAGES, ENGINES, type Engine, type OtherVoices } from '../kws/term-synth.js';
import { COMPILED_EMBEDDING, CompiledHeadsError } from '../kws/compiled-heads.js';
import { NegativeBank } from '../model/negative-bank.js';
import { SpeechEmbedding } from '../model/speech-embedding.js';
import { TermHeads } from '../model/term-heads.js';
import { EX_CONFIG } from '../config/index.js';
import { embeddingOptions, headsOptions } from '../daemon/wiring.js';
import { createLogger } from '../log.js';
import { loadConfigOrReport } from './run-command.js';
import { parseCommandArgs, usageError } from './usage.js';

/** `gearhear vocab check FILE` and `gearhear vocab compile FILE [--g2p espeak-ng|flite] [--clips N] [--voices LIST] [--real-speech MANIFEST... [--real-per-term N] [--real-units U]] [--no-heads]`. */
export async function runVocab(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('vocab', { args, allowPositionals: true, options: {
    g2p: { type: 'string' }, 'no-heads': { type: 'boolean' }, clips: { type: 'string' }, voices: { type: 'string' },
    'real-speech': { type: 'string', multiple: true }, 'real-per-term': { type: 'string' }, 'real-units': { type: 'string' }, 'real-negatives': { type: 'string' }, config: { type: 'string' }, set: { type: 'string', multiple: true },
  } });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, file] = positionals;
  if (sub !== 'check' && sub !== 'compile') return usageError('vocab', sub ? `unknown subcommand "${sub}"` : 'name the subcommand: check or compile');
  if (!file || positionals.length > 2) return usageError('vocab', `name one vocabulary file, e.g. gearhear vocab ${sub} vocab/mechanical-en.txt`);
  if (sub === 'compile') {
    const g2pName = values.g2p ?? 'espeak-ng';
    if (g2pName !== 'espeak-ng' && g2pName !== 'flite') {
      return usageError('vocab', `--g2p must be espeak-ng or flite, got "${g2pName}"`);
    }
    const clips = values.clips === undefined ? 60 : Number(values.clips);
    if (!(Number.isInteger(clips) && clips >= 6 && clips <= 1000)) return usageError('vocab', `--clips must be a whole number from 6 to 1000, got "${values.clips}"`);
    const realPerTerm = values['real-per-term'] === undefined ? 60 : Number(values['real-per-term']);
    if (!(Number.isInteger(realPerTerm) && realPerTerm >= 1 && realPerTerm <= 1000)) return usageError('vocab', `--real-per-term must be a whole number from 1 to 1000, got "${values['real-per-term']}"`);
    const realUnits = values['real-units'] ?? 'words+pieces';
    if (!['words', 'pieces', 'words+pieces'].includes(realUnits)) return usageError('vocab', `--real-units must be words, pieces or words+pieces, got "${realUnits}"`);
    const realNegativeMinutes = values['real-negatives'] === undefined ? 20 : Number(values['real-negatives']);
    if (!(Number.isFinite(realNegativeMinutes) && realNegativeMinutes >= 0 && realNegativeMinutes <= 600)) return usageError('vocab', `--real-negatives must be minutes from 0 to 600, got "${values['real-negatives']}"`);
    for (const flag of ['real-per-term', 'real-units', 'real-negatives'] as const) if (values[flag] !== undefined && !values['real-speech']) return usageError('vocab', `--${flag} needs --real-speech MANIFEST`);
    const engines = values.voices?.split(',').map((v) => v.trim()).filter(Boolean);
    const unknown = engines?.filter((e) => !(ENGINES as readonly string[]).includes(e)) ?? [];
    if (engines && (engines.length === 0 || unknown.length > 0)) return usageError('vocab', `--voices takes synthesisers from ${ENGINES.join(', ')}; got "${values.voices}"`);
    const config = loadConfigOrReport({ config: values.config, set: values.set });
    if (!config) return EX_CONFIG;
    const voices = await chosenVoices(engines);
    if (typeof voices === 'string') {
      process.stderr.write(`gearhear vocab compile: ${voices}
`);
      return EX_CONFIG;
    }
    // Read before the lexicon is written, so a wrong manifest changes nothing.
    const realSpeech = values['real-speech'] ? await RealSpeech.open(values['real-speech']) : undefined;
    const r = await compileVocabulary(file, { g2p: g2pByName(g2pName) });
    process.stdout.write(`wrote ${r.outPath}: ${r.words} words (${r.fromG2p.length} from ${g2pName}${r.fromG2p.length ? ': ' + r.fromG2p.join(', ') : ''}), vocabulary version ${r.vocabularyVersion}\n`);
    if (config.model.detector === 'heads' && !values['no-heads']) await compileHeads(file, headsOptions(config), clips, voices, realSpeech ? { realSpeech, realPerTerm, realUnits: realUnits as RealUnits, realNegativeMinutes } : {});
    else if (!values['no-heads']) process.stdout.write('term heads not compiled: model.detector is phones (add --set model.detector=heads to compile them)\n');
    return 0;
  }
  const c = await checkVocabulary(file);
  process.stdout.write(`${c.file}: ${c.terms} terms, version ${c.version}\n`);
  process.stdout.write(`categories: ${Object.entries(c.categories).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  for (const w of c.warnings) process.stdout.write(`warning: ${w}\n`);
  if (c.termProblems.length > 0) {
    for (const p of c.termProblems) process.stdout.write(`problem: ${p}\n`);
    return 1;
  }
  if (!c.ok) {
    process.stdout.write(`problem: ${c.lexiconProblem ?? `the lexicon ${c.lexicon} has no pronunciation for: ${c.missingWords.join(', ')}`}\n`);
    process.stdout.write(`fix: gearhear vocab compile ${file}\n`);
    return 1;
  }
  process.stdout.write('ok: every term has a pronunciation the keyword search accepts\n');
  return 0;
}

/**
 * The installed voices of the synthesisers named by --voices (all installed when not given), or what
 * is wrong: a named synthesiser that is not installed.
 */
async function chosenVoices(engines: string[] | undefined): Promise<OtherVoices | string> {
  const { voices, missing } = await voicesNamed(engines);
  if (missing.length > 0) return `--voices names ${missing.join(', ')}, not installed here (${missing.map((e) => `${e}: apt-get install ${ENGINE_PACKAGES[e as Engine]}`).join('; ')}), or leave it out of --voices`;
  return voices;
}

/** The heads part of `vocab compile`: a head for every term the shipped heads lack. */
async function compileHeads(file: string, h: ReturnType<typeof headsOptions>, clipsPerTerm: number, voices: OtherVoices, real: { realSpeech?: RealSpeech; realPerTerm?: number; realUnits?: RealUnits; realNegativeMinutes?: number }): Promise<void> {
  if (h.embedding !== COMPILED_EMBEDDING) {
    throw new CompiledHeadsError(`term heads for new terms are fitted against the negative bank of the ${COMPILED_EMBEDDING} speech embedding, but model.embedding is ${h.embedding}: compile with --set model.embedding=${COMPILED_EMBEDDING} (and listen with it), or --no-heads`);
  }
  const heads = await TermHeads.load(h.dir, h.intraOpThreads);
  const embedding = await SpeechEmbedding.load(await embeddingOptions(h));
  try {
    const bank = await NegativeBank.load(h.dir);
    const t0 = performance.now();
    process.stderr.write(`compile heads: voices of ${describeVoices(voices).join('; ')}\n`);
    const r = await new HeadCompiler({ heads, embedding, bank, scorePivot: h.scorePivot, clipsPerTerm, voices, ...real, logger: createLogger('warn'),
      onProgress: (p) => process.stderr.write(p.stage === 'clips'
        ? `compile heads: ${p.index}/${p.total} "${p.term}": ${clipsPerTerm} synthesised clips${real.realSpeech ? ` and up to ${real.realPerTerm ?? 60} real occurrences (${real.realUnits ?? 'words+pieces'})` : ''}, through the embedding\n`
        : `compile heads: ${p.index}/${p.total} "${p.term}": fitting its head\n`) }).compile(file);
    const sec = (performance.now() - t0) / 1000;
    const per = r.compiled.length ? ` in ${sec.toFixed(1)} s (${(r.compiled.reduce((a, e) => a + e.seconds, 0) / r.compiled.length).toFixed(1)} s per term after the bank)` : '';
    process.stdout.write(`wrote ${r.outPath}: ${r.shipped.length} terms have shipped heads, ${r.compiled.length} compiled${per}, ${r.cached.length} kept from the last compile\n`);
    for (const e of r.compiled) {
      const made = e.realPieces ? `, ${e.realPieces} made from its phones` : '';
      const realPart = e.realOccurrences === undefined ? '' : ` (${e.realOccurrences} said whole in ${real.realSpeech!.manifest}${made}${e.realOccurrences + (e.realPieces ?? 0) === 0 ? ': none, synthesised only' : ''})`;
      process.stdout.write(`  ${e.term}: ${e.clips} clips${realPart}, ${e.seconds} s, synthesised windows at the pivot ${Math.round(e.synthRecallAtPivot * 100)} %${e.synthRecallAtPivot < 0.3 ? ' (low: the term may sound like common speech; a longer term is safer)' : ''}\n`);
    }
  } finally {
    await embedding.dispose();
    await heads.dispose();
  }
}
