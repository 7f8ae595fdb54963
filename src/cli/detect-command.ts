import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../config/index.js';
import { OnnxAcousticModel } from '../model/onnx-model.js';
import { loadKeywords } from '../kws/load.js';
import { DEFAULT_KEYWORD_THRESHOLD } from '../kws/search.js';
import { createLogger } from '../log.js';
import { detectFile, detectStream, detectionJson, detectionLine, type DetectFileOptions } from './detect.js';

/** sysexits EX_NOINPUT: the list named by --files-from cannot be read. */
const EX_NOINPUT = 66;
/** The name that stands for stdin, as a file argument or as the --files-from list. */
const STDIN = '-';

/**
 * `gearhear detect [--vocab FILE] [--model DIR] [--json] [--files-from LIST|-] FILE...|-`: exit 0 when
 * every file was read. A file named `-` is audio on stdin (a WAV stream, or raw s16le 16 kHz mono).
 */
export async function runDetect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      vocab: { type: 'string' }, model: { type: 'string' }, variant: { type: 'string' }, json: { type: 'boolean' },
      threshold: { type: 'string' }, vad: { type: 'string' }, threads: { type: 'string' }, 'files-from': { type: 'string' },
    },
  });
  const listed = values['files-from'] === undefined ? [] : await readFileList(values['files-from']);
  if (listed === null) return EX_NOINPUT;
  const files = [...positionals, ...listed];
  if (files.length === 0) {
    process.stderr.write(
      values['files-from'] === undefined
        ? 'gearhear detect: name at least one WAV file, e.g. gearhear detect --json recording.wav\n'
        : `gearhear detect: ${values['files-from']} lists no files (one path per line)\n`,
    );
    return 64;
  }
  if (values['files-from'] === STDIN && files.includes(STDIN)) {
    process.stderr.write('gearhear detect: stdin cannot be both the file list (--files-from -) and audio (-)\n');
    return 64;
  }
  if (files.filter((f) => f === STDIN).length > 1) {
    process.stderr.write('gearhear detect: "-" (audio on stdin) may be named only once\n');
    return 64;
  }
  const root = packageRoot();
  const vocabPath = path.resolve(values.vocab ?? path.join(root, 'vocab', 'mechanical-en.txt'));
  const modelDir = path.resolve(values.model ?? path.join(root, 'models', 'gearhear-kws'));
  const variant = values.variant;
  if (variant !== undefined && variant !== 'int8' && variant !== 'fp32') {
    process.stderr.write(`gearhear detect: --variant must be int8 or fp32, got "${variant}"\n`);
    return 64;
  }
  const threshold = values.threshold === undefined ? DEFAULT_KEYWORD_THRESHOLD : Number(values.threshold);
  if (!(threshold >= 0 && threshold <= 1)) {
    process.stderr.write(`gearhear detect: --threshold must be a number in [0, 1], got "${values.threshold}"\n`);
    return 64;
  }
  const engine = values.vad ?? 'silero';
  if (engine !== 'silero' && engine !== 'energy') {
    process.stderr.write(`gearhear detect: --vad must be silero or energy, got "${engine}"\n`);
    return 64;
  }
  const logger = createLogger('warn');
  const { specs } = await loadKeywords(vocabPath, { defaults: { threshold, boost: 0 }, compileIfMissing: true, logger });
  const model = await OnnxAcousticModel.load({ dir: modelDir, variant, intraOpThreads: Number(values.threads ?? 1) });
  let failed = 0;
  try {
    for (const file of files) {
      try {
        const options: DetectFileOptions = { model, keywords: specs, gate: { engine } };
        const result = file === STDIN ? await detectStream(file, process.stdin, options) : await detectFile(file, options);
        for (const d of result.detections) {
          process.stdout.write((values.json ? detectionJson(file, d) : detectionLine(file, d)) + '\n');
        }
        if (!values.json && result.detections.length === 0) process.stdout.write(`${file}  (no vocabulary terms heard)\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`gearhear detect: ${(err as Error).message}\n`);
      }
    }
  } finally {
    await model.dispose();
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
    process.stderr.write(`gearhear detect: cannot read the file list ${list}: ${(err as Error).message}\n`);
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
