import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../config/index.js';
import { OnnxAcousticModel } from '../model/onnx-model.js';
import { loadKeywords } from '../kws/load.js';
import { SCHEMA } from '../config/schema.js';
import { createLogger } from '../log.js';
import { detectFile, detectionJson, detectionLine } from './detect.js';

/** `gearhear detect [--vocab FILE] [--model DIR] [--json] FILE...`: exit 0 when every file was read. */
export async function runDetect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: {
      vocab: { type: 'string' }, model: { type: 'string' }, variant: { type: 'string' }, json: { type: 'boolean' },
      threshold: { type: 'string' }, vad: { type: 'string' }, threads: { type: 'string' },
    },
  });
  if (positionals.length === 0) {
    process.stderr.write('gearhear detect: name at least one WAV file, e.g. gearhear detect --json recording.wav\n');
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
  const threshold = values.threshold === undefined ? Number(SCHEMA.kws.threshold.default) : Number(values.threshold);
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
    for (const file of positionals) {
      try {
        const result = await detectFile(file, { model, keywords: specs, gate: { engine } });
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
