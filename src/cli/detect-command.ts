import { readFile } from 'node:fs/promises';
import { loadPhoneModel } from '../model/phone-model.js';
import { SpeechEmbedding } from '../model/speech-embedding.js';
import { TermHeads } from '../model/term-heads.js';
import type { ListenerHeads } from '../daemon/listener.js';
import { loadListenerHeads } from './load-heads.js';
import { loadKeywords } from '../kws/load.js';
import { calibrationFor, describeCalibration } from '../calibration/in-use.js';
import { calibrationFileFor, calibrationIdentity } from '../calibration/file.js';
import { createLogger } from '../log.js';
import { EX_CONFIG } from '../config/index.js';
import { gateOptions, headsOptions, keywordDefaults, phoneModelOptions, searchOptions } from '../daemon/wiring.js';
import { detectFile, detectStream, type DetectFileOptions } from '../listen/detect-audio.js';
import { detectionJson, detectionLine } from './detect.js';
import { loadConfigOrReport } from './run-command.js';
import { messageAbout, shownPath } from './shown-path.js';
import { parseCommandArgs, usageError } from './usage.js';

/** sysexits EX_NOINPUT: the list named by --files-from cannot be read. */
const EX_NOINPUT = 66;
/** The name that stands for stdin, as a file argument or as the --files-from list. */
const STDIN = '-';

/**
 * `gearhear detect [--vocab FILE] [--model DIR] [--json] [--files-from LIST|-] FILE...|-`: exit 0 when
 * every file was read. A file named `-` is audio on stdin (a WAV stream, or raw s16le 16 kHz mono).
 * The parts are built from the same configuration as `run` (config file, GEARHEAR_*, --set); the
 * flags are shorthands for keys of it.
 */
export async function runDetect(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('detect', {
    args, allowPositionals: true,
    options: {
      vocab: { type: 'string' }, model: { type: 'string' }, variant: { type: 'string' }, json: { type: 'boolean' },
      threshold: { type: 'string' }, vad: { type: 'string' }, threads: { type: 'string' }, 'files-from': { type: 'string' },
      config: { type: 'string' }, set: { type: 'string', multiple: true },
      detector: { type: 'string' }, phones: { type: 'string' }, heads: { type: 'string' }, 'heads-threshold': { type: 'string' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const listed = values['files-from'] === undefined ? [] : await readFileList(values['files-from']);
  if (listed === null) return EX_NOINPUT;
  const files = [...positionals, ...listed];
  if (files.length === 0) {
    return usageError('detect', values['files-from'] === undefined
      ? 'name at least one WAV file, e.g. gearhear detect --json recording.wav'
      : `${shownPath(values['files-from'])} lists no files (one path per line)`);
  }
  if (values['files-from'] === STDIN && files.includes(STDIN)) {
    return usageError('detect', 'stdin cannot be both the file list (--files-from -) and audio (-)');
  }
  if (files.filter((f) => f === STDIN).length > 1) {
    return usageError('detect', '"-" (audio on stdin) may be named only once');
  }
  const variant = values.variant;
  if (variant !== undefined && variant !== 'int8' && variant !== 'fp32') {
    return usageError('detect', `--variant must be int8 or fp32, got "${variant}"`);
  }
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    return usageError('detect', `--threshold must be a number in [0, 1], got "${values.threshold}"`);
  }
  const engine = values.vad;
  if (engine !== undefined && engine !== 'silero' && engine !== 'energy') {
    return usageError('detect', `--vad must be silero or energy, got "${engine}"`);
  }
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    return usageError('detect', `--threads must be a whole number from 1 to 64, got "${values.threads}"`);
  }
  const shorthands: Array<[string, string | number | undefined]> = [
    ['vocab.file', values.vocab], ['model.dir', values.model], ['model.variant', variant], ['kws.threshold', threshold],
    ['vad.engine', engine], ['model.intraOpThreads', threads], ['model.detector', values.detector], ['model.phones', values.phones], ['model.headsDir', values.heads],
    ['model.headsThreshold', values['heads-threshold']],
  ];
  const set = [...(values.set ?? []), ...shorthands.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`)];
  const config = loadConfigOrReport({ config: values.config, set });
  if (!config) return EX_CONFIG;
  const logger = createLogger('warn');
  const { vocab, specs } = await loadKeywords(config.vocab.file, { defaults: keywordDefaults(config), compileIfMissing: true, logger });
  const { model } = await loadPhoneModel(phoneModelOptions(config));
  const loadedHeads = await loadListenerHeads(config, config.vocab.file);
  const heads: ListenerHeads | undefined = loadedHeads?.listener;
  if (loadedHeads && loadedHeads.site.terms.length > 0) process.stderr.write(`gearhear detect: site heads ${loadedHeads.site.file} (gearhear adapt) for ${loadedHeads.site.terms.join(', ')}\n`);
  if (loadedHeads && loadedHeads.site.skipped.length > 0) process.stderr.write(`gearhear detect: site heads for ${loadedHeads.site.skipped.join(', ')} skipped: their factory head changed or is gone since gearhear adapt (run it again)\n`);
  // The calibration the daemon would use (calibration.file, else the one beside the vocabulary).
  const calibration = await calibrationFor(calibrationFileFor(config), calibrationIdentity([model, heads?.heads, heads?.embedding, heads?.patienceHops], vocab, config.kws.boost));
  // Which thresholds the detections below were made at: on stderr, so --json output stays JSON.
  process.stderr.write(`gearhear detect: ${describeCalibration(calibration)}\n`);
  if (calibration.error) process.stderr.write(`gearhear detect: ${calibration.error.message}; the vocabulary's thresholds apply\n`);
  else if (calibration.status.used && calibration.status.uncalibrated.length > 0) {
    process.stderr.write(`gearhear detect: ${calibration.status.file} has no threshold for ${calibration.status.uncalibrated.join(', ')} (added or changed since it was made): the vocabulary's thresholds apply to them\n`);
  }
  const thresholds = calibration.thresholds ?? undefined;
  let failed = 0;
  try {
    for (const file of files) {
      try {
        const options: DetectFileOptions = { model, keywords: specs, gate: gateOptions(config), search: searchOptions(config), heads, thresholds };
        const result = file === STDIN ? await detectStream(file, process.stdin, options) : await detectFile(file, options);
        for (const d of result.detections) {
          process.stdout.write((values.json ? detectionJson(file, d) : detectionLine(shownPath(file), d)) + '\n');
        }
        if (!values.json && result.detections.length === 0) process.stdout.write(`${shownPath(file)}  (no vocabulary terms heard)\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`gearhear detect: ${messageAbout((err as Error).message, file)}\n`);
      }
    }
  } finally {
    await model.dispose();
    await loadedHeads?.dispose();
  }
  return failed === 0 ? 0 : 1;
}

/**
 * The paths in a --files-from list (`-`: stdin): one per line, or NUL-separated (`find -print0`)
 * when the list holds a NUL. Blank lines are skipped. Null (after saying why) when it cannot be read.
 */
async function readFileList(list: string): Promise<string[] | null> {
  let text: string;
  try {
    text = list === STDIN ? await readStdinText() : await readFile(list, 'utf8');
  } catch (err) {
    process.stderr.write(`gearhear detect: ${messageAbout(`cannot read the file list ${list}: ${(err as Error).message}`, list)}\n`);
    return null;
  }
  const entries = text.includes('\0') ? text.split('\0') : text.split(/\r?\n/);
  return entries.filter((p) => p.trim() !== '');
}

async function readStdinText(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
