/**
 * `gearhear adapt`: site heads for the enrolled terms (src/enrol/adapt.ts), written to
 * `<state.dir>/site-heads.json` term by term: a refused term keeps its previous site head.
 */
import { readWavFile } from '../audio/file.js';
import { SAMPLE_RATE } from '../audio/types.js';
import { EX_CONFIG } from '../config/index.js';
import type { GearhearConfig } from '../config/types.js';
import { embeddingOptions, headsOptions } from '../daemon/wiring.js';
import { SiteAdapter, type EnrolledTerm, type TermOutcome } from '../enrol/adapt.js';
import { readSiteHeadsFile, SITE_HEADS_FORMAT, siteHeadsPath, writeSiteHeadsFile, type SiteHeadsFile } from '../enrol/site-heads.js';
import { applyRetention, listTakes, readTakeSamples } from '../enrol/store.js';
import { listClips, readClipSamples } from '../evidence/store.js';
import { COMPILED_EMBEDDING, CompiledHeadsError, loadCompiledHeads } from '../kws/compiled-heads.js';
import { loadVocabulary } from '../kws/vocabulary.js';
import { createLogger } from '../log.js';
import { NegativeBank } from '../model/negative-bank.js';
import { SpeechEmbedding } from '../model/speech-embedding.js';
import { TermHeads } from '../model/term-heads.js';
import { EX_DATAERR, retentionOf, wavFiles } from './enroll-command.js';
import { loadConfigOrReport } from './run-command.js';
import { parseCommandArgs, usageError } from './usage.js';

export async function runAdapt(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('adapt', {
    args, allowPositionals: false,
    options: {
      terms: { type: 'string' }, negatives: { type: 'string', multiple: true }, noise: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, config: { type: 'string' }, set: { type: 'string', multiple: true },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const config = loadConfigOrReport(values);
  if (!config) return EX_CONFIG;
  const negFiles = await wavFiles(values.negatives ?? []), noiseFiles = await wavFiles(values.noise ?? []);
  if (typeof negFiles === 'string') return usageError('adapt', `--negatives: ${negFiles}`);
  if (typeof noiseFiles === 'string') return usageError('adapt', `--noise: ${noiseFiles}`);
  const h = headsOptions(config);
  if (h.embedding !== COMPILED_EMBEDDING) {
    throw new CompiledHeadsError(`site heads are fitted against the negative bank of the ${COMPILED_EMBEDDING} speech embedding, but model.embedding is ${h.embedding}: adapt and listen with --set model.embedding=${COMPILED_EMBEDDING}`);
  }
  const terms = await enrolledTerms(config, values.terms?.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
  if (terms.length === 0) {
    process.stderr.write(`gearhear adapt: no term has ${config.enrolment.minTakes} takes (gearhear enroll TERM --from FILE...; gearhear enroll list)\n`);
    return EX_DATAERR;
  }
  const shipped = await TermHeads.load(h.dir, h.intraOpThreads);
  const embedding = await SpeechEmbedding.load(await embeddingOptions(h));
  try {
    const heads = shipped.withCompiled(await loadCompiledHeads(config.vocab.file, shipped, h.embedding));
    const missing = terms.filter((t) => !heads.termIndex.has(t.term)).map((t) => t.term);
    if (missing.length > 0) {
      throw new CompiledHeadsError(`no factory head for ${missing.map((t) => `"${t}"`).join(', ')}: run gearhear vocab compile ${config.vocab.file} --set model.detector=heads first`);
    }
    const adapter = new SiteAdapter({
      heads, embedding, bank: await NegativeBank.load(h.dir), scorePivot: h.scorePivot, patienceHops: h.patienceHops,
      refractorySec: config.kws.refractoryMs / 1000, targetFaPerHour: config.enrolment.targetFaPerHour,
      siteNegatives: negFiles.map((f) => () => readWavFile(f)), noiseBeds: await Promise.all(noiseFiles.map((f) => readWavFile(f))),
      logger: createLogger(config.log.level === 'debug' ? 'debug' : 'warn'),
    });
    const outcomes = await adapter.adapt(terms);
    for (const o of outcomes) process.stdout.write(values.json ? `${JSON.stringify({ term: o.term, accepted: o.accepted, refusals: o.refusals, guard: o.entry.guard, takes: o.entry.takes, seconds: o.entry.seconds })}\n` : describe(o));
    const file = siteHeadsPath(config.state.dir);
    const accepted = outcomes.filter((o) => o.accepted);
    if (!values['dry-run'] && accepted.length > 0) {
      const previous = await readSiteHeadsFile(file).catch(() => null);
      const keep = previous && previous.heads.sha256 === heads.manifest.sha256 ? previous.terms.filter((e) => !accepted.some((o) => o.term === e.term)) : [];
      const f: SiteHeadsFile = {
        format: SITE_HEADS_FORMAT, heads: { id: heads.manifest.id, version: heads.manifest.version, sha256: heads.manifest.sha256 },
        embedding: h.embedding, scorePivot: h.scorePivot, featureDim: accepted[0]!.entry.weights.length, terms: [...keep, ...accepted.map((o) => o.entry)],
      };
      await writeSiteHeadsFile(file, f);
      process.stdout.write(`wrote ${file}: site heads for ${f.terms.map((e) => e.term).join(', ')}${config.model.detector === 'heads' ? '; run and detect use them (model.detector = heads)' : '; run and detect use them only with model.detector = heads'}\n`);
    } else if (!values['dry-run']) process.stdout.write(`nothing written; ${file} is unchanged\n`);
    return outcomes.every((o) => o.accepted) ? 0 : EX_DATAERR;
  } finally {
    await embedding.dispose();
    await shipped.dispose();
  }
}

function describe(o: TermOutcome): string {
  const g = o.entry.guard;
  const lines = [`${o.term}: ${o.accepted ? 'adapted' : 'REFUSED'} (${o.entry.takes} takes by ${o.entry.speakers.join(', ')}, ${o.entry.trueClips} true and ${o.entry.falseClips} false clips, ${o.entry.seconds} s)`,
    `  held-out takes found: ${Number.isNaN(g.recallBefore) ? 'none held out' : `factory ${Math.round(g.recallBefore * g.heldOutTakes)}, site ${Math.round(g.recallAfter * g.heldOutTakes)} of ${g.heldOutTakes}`}; false alarms per hour on ${g.negativeHours} h held out: factory ${g.faPerHourBefore}, site ${g.faPerHourAfter}; other terms above it in the median take: ${g.takesRank}${g.biasLoweredBy ? `; bias lowered by ${g.biasLoweredBy} after too many false alarms` : ''}`];
  for (const r of o.refusals) lines.push(`  refused: ${r}`);
  return lines.join('\n') + '\n';
}

/** Terms with at least enrolment.minTakes takes and `true` clips, with their evidence clips. */
async function enrolledTerms(config: GearhearConfig, only: string[] | undefined): Promise<EnrolledTerm[]> {
  await applyRetention(config.state.dir, retentionOf(config));
  const vocab = await loadVocabulary(config.vocab.file);
  const { takes } = await listTakes(config.state.dir);
  const { clips } = await listClips(config.state.dir);
  const out: EnrolledTerm[] = [];
  for (const v of vocab.terms) {
    if (only && !only.includes(v.term)) continue;
    const mine = takes.filter((t) => t.term === v.term);
    const trues = clips.filter((c) => (c.verdict?.verdict === 'true' && c.term === v.term) || (c.verdict?.verdict === 'wrong-term' && c.verdict.saidTerm === v.term));
    if (mine.length + trues.length < config.enrolment.minTakes) continue;
    const falses = clips.filter((c) => c.term === v.term && (c.verdict?.verdict === 'false' || (c.verdict?.verdict === 'wrong-term' && c.verdict.saidTerm !== v.term)));
    out.push({
      term: v.term, threshold: v.threshold ?? config.kws.threshold,
      takes: await Promise.all(mine.map(async (t) => ({ samples: await readTakeSamples(t), end: t.speechEnd, who: t.who }))),
      truePositives: await Promise.all(trues.map(async (c) => ({ samples: await readClipSamples(c), end: Math.round((c.end - c.clipStart) * SAMPLE_RATE) }))),
      hardNegatives: await Promise.all(falses.map((c) => readClipSamples(c))),
    });
  }
  for (const t of only ?? []) if (!out.some((e) => e.term === t)) process.stderr.write(`gearhear adapt: "${t}" skipped: not a vocabulary term with ${config.enrolment.minTakes} takes\n`);
  return out;
}
