import { existsSync } from 'node:fs';
/**
 * `gearhear calibrate`: per-term thresholds for a site, from its own recordings without the terms
 * (FILE|DIR...), from the daemon's score history (--from-history) or from operators' verdicts
 * (--from-feedback). Writes the calibration file beside the vocabulary (never the vocabulary).
 */
import path from 'node:path';
import { EX_CONFIG } from '../config/index.js';
import type { GearhearConfig } from '../config/types.js';
import { loadKeywords } from '../kws/load.js';
import { effectiveThreshold } from '../kws/prefix-tree.js';
import { KEYWORD_SEARCH_DEFAULTS } from '../kws/search-options.js';
import type { KeywordSpec } from '../kws/types.js';
import { loadPhoneModel } from '../model/phone-model.js';
import type { AcousticModel } from '../model/types.js';
import { applyFeedback, jsonlFeedbackSource, type FeedbackSource } from '../calibration/feedback.js';
import { evidenceDir, listClips } from '../evidence/store.js';
import {
  CALIBRATION_FORMAT, CalibrationError, calibrationFileFor, calibrationIdentity, calibrationOutFor, readCalibration, checkCalibration, writeCalibration,
  type Calibration, type CalibrationIdentity,
} from '../calibration/file.js';
import { HISTORY_FILE, historyTails, readHistory } from '../calibration/history.js';
import { OccurrenceLog, OccurrenceTail, type ScoreTail } from '../calibration/occurrences.js';
import { listRecordings, matchLabels, readLabels, readRecording, scoreRecordings } from '../calibration/recordings.js';
import { CALIBRATION_FLOOR, MARGIN, chooseThresholds, type TermThreshold } from '../calibration/thresholds.js';
import { checkAudio } from '../calibration/audio-needed.js';
import { detectSamples, type DetectFileOptions } from '../listen/detect-audio.js';
import { loadListenerHeads } from './load-heads.js';
import type { ListenerHeads } from '../daemon/listener.js';
import { loadConfigOrReport } from './run-command.js';
import { COMMAND_USAGE, parseCommandArgs, usageError } from './usage.js';
import { keywordDefaults, phoneModelOptions } from '../daemon/wiring.js';

/** The command's usage (usage.ts holds every command's). */
export const CALIBRATE_USAGE: string = COMMAND_USAGE.calibrate;

/**
 * The verdicts the daemon stored with its evidence clips (`<state.dir>/evidence`, evidence.enabled):
 * each clip with a verdict is one item, scored again from its WAV.
 */
export function defaultFeedbackSource(config: GearhearConfig): FeedbackSource | null {
  const dir = evidenceDir(config.state.dir);
  if (!existsSync(dir)) return null;
  return {
    description: dir,
    async items() {
      const { clips } = await listClips(config.state.dir);
      return clips.filter((c) => c.verdict).map((c) => ({
        term: c.term, verdict: c.verdict!.verdict, score: c.confidence, clip: c.wavPath,
        actualTerm: c.verdict!.saidTerm, detectionId: c.detectionId,
      }));
    },
  };
}

interface Setup {
  config: GearhearConfig;
  vocabPath: string;
  specs: KeywordSpec[];
  vocabVersion: string;
  model: AcousticModel;
  heads?: ListenerHeads;
  identity: CalibrationIdentity;
  out: string;
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

export async function runCalibrate(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('calibrate', {
    args, allowPositionals: true,
    options: {
      'target-fa-per-hour': { type: 'string' }, vocab: { type: 'string' }, labels: { type: 'string' }, out: { type: 'string' },
      model: { type: 'string' }, variant: { type: 'string' }, 'from-history': { type: 'boolean' }, 'from-feedback': { type: 'boolean' },
      feedback: { type: 'string' }, config: { type: 'string' }, set: { type: 'string', multiple: true }, json: { type: 'boolean' },
      factory: { type: 'boolean' }, force: { type: 'boolean' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const modes = [positionals.length > 0, values['from-history'] === true, values['from-feedback'] === true].filter(Boolean).length;
  if (modes !== 1) {
    return usageError('calibrate', 'give recordings (FILE|DIR...), --from-history or --from-feedback: exactly one');
  }
  const target = values['target-fa-per-hour'] === undefined ? 0.1 : Number(values['target-fa-per-hour']);
  if (!(target > 0) || !Number.isFinite(target)) {
    return usageError('calibrate', `--target-fa-per-hour must be a number > 0, got "${values['target-fa-per-hour']}"`);
  }
  if (values.variant !== undefined && values.variant !== 'int8' && values.variant !== 'fp32') {
    return usageError('calibrate', `--variant must be int8 or fp32, got "${values.variant}"`);
  }
  const config = loadConfigOrReport(values);
  if (!config) return EX_CONFIG;
  const feedbackSource = values['from-feedback'] ? (values.feedback ? jsonlFeedbackSource(path.resolve(values.feedback)) : defaultFeedbackSource(config)) : null;
  if (values['from-feedback'] && !feedbackSource) {
    return usageError('calibrate', `--from-feedback needs verdicts: none are stored in ${evidenceDir(config.state.dir)} (the daemon keeps them with evidence.enabled), or name --feedback FILE (JSON lines {"term","verdict","score","clip"})`);
  }
  const historyFile = path.join(config.state.dir, HISTORY_FILE);
  const history = values['from-history'] ? await readHistory(historyFile) : null;
  if (values['from-history'] && !history) {
    process.stderr.write(`gearhear calibrate: no score history at ${historyFile}: the daemon writes it while it listens (calibration.history = true); or calibrate from recordings\n`);
    return EX_CONFIG;
  }
  const vocabPath = path.resolve(values.vocab ?? config.vocab.file);
  const { vocab, specs } = await loadKeywords(vocabPath, { defaults: keywordDefaults(config) });
  const phones = phoneModelOptions(config);
  const { model } = await loadPhoneModel({
    ...phones, kws: { ...phones.kws, dir: path.resolve(values.model ?? config.model.dir), variant: (values.variant as 'int8' | 'fp32' | undefined) ?? config.model.variant },
  });
  // model.detector = heads: the terms with a head are scored by it, as in the daemon.
  const heads = await loadListenerHeads(config, vocabPath);
  const setup: Setup = {
    config, vocabPath, specs, vocabVersion: vocab.version, model, heads: heads?.listener,
    identity: calibrationIdentity([model, heads?.listener.heads, heads?.listener.embedding, heads?.listener.patienceHops], vocab, config.kws.boost),
    out: path.resolve(values.out ?? calibrationOutFor(config, vocabPath, values.vocab !== undefined)),
  };
  try {
    if (feedbackSource) return await fromFeedback(setup, feedbackSource, values.json === true);
    let tails: Map<string, ScoreTail>;
    let audioHours: number;
    let atVocab: Map<string, number> | null = null;
    let notes: string[] = [];
    if (history) {
      const h = history;
      const file = historyFile;
      if (h.modelSha256 !== setup.identity.model.sha256) {
        process.stderr.write(`gearhear calibrate: the score history ${file} is for other detectors (sha256 ${h.modelSha256.slice(0, 12)}, these are ${setup.identity.model.id} ${setup.identity.model.sha256.slice(0, 12)}); let the daemon listen with them first\n`);
        return EX_CONFIG;
      }
      const r = historyTails(h, specs);
      tails = r.tails;
      audioHours = Math.max(0, ...[...tails.values()].map((t) => t.hours));
      if (r.stale.length > 0) notes.push(`no history yet for ${r.stale.length} term(s) (new or changed since the daemon last listened), not calibrated: ${r.stale.join(', ')}`);
    } else {
      const files = await listRecordings(positionals);
      let labels = values.labels ? await readLabels(path.resolve(values.labels)) : [];
      if (values.labels) {
        const m = matchLabels(labels, files, path.resolve(values.labels));
        if (m.unmatched.length > 0) notes.push(`labels name files that are not among the recordings: ${m.unmatched.join(', ')}`);
        labels = m.spans;
      }
      const log = new OccurrenceLog(CALIBRATION_FLOOR, labels);
      const listen: Omit<DetectFileOptions, 'scores'> = {
        model, keywords: specs, search: { refractorySec: config.kws.refractoryMs / 1000 }, heads: setup.heads,
        gate: {
          engine: config.vad.engine, threshold: config.vad.threshold, preRollMs: config.vad.preRollMs, hangoverMs: config.vad.hangoverMs,
          minSpeechMs: config.vad.minSegmentMs, maxSegmentMs: config.vad.maxSegmentMs, energyMarginDb: config.vad.energyMarginDb,
          energyMinLevelDb: config.vad.minLevelDbfs, sileroSpeechStride: config.vad.sileroSpeechStride,
        },
      };
      const scored = await scoreRecordings(files, log, labels, (file, pcm, scores) => detectSamples(file, pcm, { ...listen, scores }), (file, i) => { if (!values.json) process.stderr.write(`\r${i + 1}/${files.length} ${path.basename(file)}`.padEnd(60)); });
      if (!values.json) process.stderr.write('\n');
      audioHours = scored.audioSec / 3600;
      if (!(audioHours > 0)) {
        process.stderr.write('gearhear calibrate: the recordings hold no audio\n');
        return 64;
      }
      tails = new Map(specs.map((s) => [s.term, new OccurrenceTail(log.byTerm.get(s.term) ?? [], audioHours, config.kws.refractoryMs / 1000)]));
      atVocab = new Map(specs.map((s) => [s.term, 0]));
      for (const d of scored.detections) atVocab.set(d.term, (atVocab.get(d.term) ?? 0) + 1);
      if (labels.length > 0) notes.push(`${log.labelled} occurrence(s) inside labelled spans were not counted`);
    }
    const chosen = chooseThresholds(tails, { targetFaPerHour: target });
    const audio = checkAudio(audioHours, target, chosen.scale, chosen.terms);
    if (audio.tooLittle && !values.force) {
      process.stderr.write(`gearhear calibrate: refused: ${audio.warning.join('\n  ')}\n  Nothing was written; --force writes it anyway.\n`);
      return 64;
    }
    if (audio.warning.length > 0) {
      process.stderr.write(`gearhear calibrate: WARNING: ${audio.warning.join('\n  ')}\n`);
      notes.push(audio.warning.join(' '));
    }
    const calibration: Calibration = {
      format: CALIBRATION_FORMAT, createdAt: new Date().toISOString(), source: values['from-history'] ? 'history' : 'recordings',
      ...setup.identity, targetFaPerHour: target, margin: MARGIN, floor: CALIBRATION_FLOOR, tailScale: round(chosen.scale, 4),
      audioHours: round(audioHours, 4), ...(values.factory ? { factory: true } : {}),
      terms: Object.fromEntries(chosen.terms.map((t) => [t.term, {
        threshold: t.threshold, siteThreshold: t.threshold, faPerHour: round(t.faPerHour, 3), reached: t.reached,
      }])),
    };
    await writeCalibration(setup.out, calibration);
    report(setup, chosen.terms, tails, atVocab, audioHours, target, chosen.scale, notes, values.json === true);
    return 0;
  } catch (err) {
    if (err instanceof CalibrationError) {
      process.stderr.write(`gearhear calibrate: ${err.message}\n`);
      return EX_CONFIG;
    }
    throw err;
  } finally {
    await model.dispose();
    await heads?.dispose();
  }
}

/**
 * Where the file went, and whether the daemon and `detect` (with this vocabulary and configuration)
 * load it from there or what makes them: calibration.file names the one they use.
 */
function wrote(setup: Setup): string {
  const loaded = path.resolve(calibrationFileFor(setup.config, setup.vocabPath));
  const vocab = path.resolve(setup.config.vocab.file) === setup.vocabPath ? '' : ` when vocab.file is ${setup.vocabPath}`;
  if (loaded === setup.out) return `wrote ${setup.out}: the daemon and \`gearhear detect\` load it from there${vocab} (restart the daemon to apply it)`;
  const set = setup.config.calibration.file ? 'calibration.file names' : 'with this vocabulary they look at';
  return `wrote ${setup.out}: the daemon does not load it from there (${set} ${loaded}); to use it, set calibration.file = ${setup.out} ` +
    `(GEARHEAR_CALIBRATION_FILE=${setup.out}, or --set calibration.file=${setup.out}) and restart the daemon`;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

function adviceFor(spec: KeywordSpec | undefined, tail: ScoreTail, threshold: number): string {
  const phones = spec ? Math.min(...spec.pronunciations.map((p) => p.length)) : 0;
  const worst = tail instanceof OccurrenceTail ? tail.worst(threshold, 2) : [];
  const where = worst.map((o) => `${o.file} at ${o.start.toFixed(1)} s (score ${o.score.toFixed(2)})`).join(', ');
  const listen = where ? `; listen to ${where}` : '';
  if (phones > 0 && phones < 5) return `too short (${phones} phones): use a longer phrase (e.g. "${spec!.term} noise"), or remove it${listen}`;
  return `sounds like something said here${listen}: add a word that sets it apart, a pron= closer to how it is said, a negative boost, or remove it`;
}

function report(setup: Setup, terms: TermThreshold[], tails: Map<string, ScoreTail>, atVocab: Map<string, number> | null, hours: number,
  target: number, scale: number, notes: string[], json: boolean): void {
  const specs = new Map(setup.specs.map((s) => [s.term, s]));
  const vocabThreshold = (s: KeywordSpec): number => Math.max(...s.pronunciations.map((p) => effectiveThreshold(s.threshold, p.length, KEYWORD_SEARCH_DEFAULTS)));
  const rows = terms.map((t) => ({
    ...t, vocabularyThreshold: specs.has(t.term) ? vocabThreshold(specs.get(t.term)!) : null,
    vocabularyFaPerHour: atVocab ? (atVocab.get(t.term) ?? 0) / hours : null,
    advice: t.reached ? null : adviceFor(specs.get(t.term), tails.get(t.term)!, t.threshold),
  }));
  if (json) {
    process.stdout.write(JSON.stringify({ file: setup.out, audioHours: hours, targetFaPerHour: target, margin: MARGIN, tailScale: scale, notes, terms: rows }) + '\n');
    return;
  }
  rows.sort((a, b) => Number(a.reached) - Number(b.reached) || (b.vocabularyFaPerHour ?? 0) - (a.vocabularyFaPerHour ?? 0) || a.term.localeCompare(b.term));
  const out: string[] = [`calibration for ${path.basename(setup.vocabPath)} (version ${setup.vocabVersion}), model ${setup.identity.model.id} ${setup.identity.model.version}: ` +
    `${fmt(hours)} h of audio, target ${target} false alarms/h per term (margin ${MARGIN}x, tail scale ${fmt(scale, 3)})`];
  out.push(`${'term'.padEnd(24)} threshold  FA/h there   vocabulary threshold  FA/h there`);
  for (const r of rows) {
    out.push(`${r.term.padEnd(24)} ${fmt(r.threshold, 3).padStart(9)}  ${fmt(r.faPerHour).padStart(10)}   ${(r.vocabularyThreshold === null ? '-' : fmt(r.vocabularyThreshold, 3)).padStart(20)}  ${(r.vocabularyFaPerHour === null ? '-' : fmt(r.vocabularyFaPerHour)).padStart(10)}`);
  }
  const unreached = rows.filter((r) => !r.reached);
  if (unreached.length > 0) {
    out.push('', `${unreached.length} term(s) cannot reach ${target} false alarms/h here (their threshold is set to the highest, ${fmt(1, 3)}):`);
    for (const r of unreached) out.push(`  ${r.term}: ${fmt(r.faPerHour)} per hour even there; ${r.advice}`);
  }
  for (const n of notes) out.push(`note: ${n}`);
  out.push(`${wrote(setup)}; the vocabulary file is unchanged`);
  process.stdout.write(out.join('\n') + '\n');
}

async function fromFeedback(setup: Setup, source: FeedbackSource, json: boolean): Promise<number> {
  let site = await readCalibration(setup.out);
  if (site) {
    site.terms = checkCalibration(setup.out, site, setup.identity);
  } else {
    // No site calibration: the vocabulary's thresholds are the floor feedback never goes below.
    site = {
      format: CALIBRATION_FORMAT, createdAt: new Date().toISOString(), source: 'feedback', ...setup.identity, targetFaPerHour: 0,
      margin: MARGIN, floor: CALIBRATION_FLOOR, tailScale: 0, audioHours: 0,
      terms: Object.fromEntries(setup.specs.map((s) => {
        const th = Math.max(...s.pronunciations.map((p) => effectiveThreshold(s.threshold, p.length, KEYWORD_SEARCH_DEFAULTS)));
        return [s.term, { threshold: th, siteThreshold: th, faPerHour: NaN, reached: true }];
      })),
    };
  }
  const specs = new Map(setup.specs.map((s) => [s.term, s]));
  const scoreClip = async (clip: string, term: string): Promise<number | null> => {
    const spec = specs.get(term);
    if (!spec) return null;
    const log = new OccurrenceLog(0.05);
    log.file = clip;
    const pcm = await readRecording(clip);
    await detectSamples(clip, pcm, { model: setup.model, heads: setup.heads, keywords: [spec], scores: log, gate: { engine: setup.config.vad.engine } });
    const scores = (log.byTerm.get(term) ?? []).map((o) => o.score);
    return scores.length > 0 ? Math.max(...scores) : null;
  };
  const result = await applyFeedback(site, await source.items(), scoreClip);
  await writeCalibration(setup.out, result.calibration);
  if (json) {
    process.stdout.write(JSON.stringify({ file: setup.out, changes: result.changes, skipped: result.skipped }) + '\n');
    return 0;
  }
  const out = [`feedback from ${source.description} on ${path.basename(setup.vocabPath)} (version ${setup.vocabVersion}):`];
  for (const c of result.changes) {
    out.push(`  ${c.term}: ${fmt(c.from, 3)} -> ${fmt(c.to, 3)} (false alarms: ${c.falseVerdicts} false, ${c.wrongTermVerdicts} wrong-term verdict(s); site calibration ${fmt(c.siteThreshold, 3)})` +
      (c.trueBelow > 0 ? `; ${c.trueBelow} positive(s) (detections marked true, or clips where a wrong-term verdict says it was said) score below it and would be missed` : ''));
  }
  if (result.changes.length === 0) out.push('  no term has false verdicts: thresholds unchanged');
  for (const s of result.skipped) out.push(`  skipped: ${s}`);
  out.push(wrote(setup));
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
