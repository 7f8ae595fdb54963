/**
 * `npm run bench:memory [-- --skip detect,stdin,vocab] [--minutes 1,5,25]`: peak resident memory
 * (VmHWM) of gearhear against the size of its input, for the bounds of issue 11:
 *   detect   `gearhear detect` over recordings of growing length, at 16 kHz mono and 44.1 kHz stereo;
 *            streaming keeps the peak flat in the length (item 7).
 *   stdin    the daemon fed raw PCM on stdin as fast as it takes it (item 6): the source is paused
 *            while the pipeline is behind, so the peak does not grow with the audio's length.
 *   vocab    `gearhear detect` with vocabularies of growing size, up to the supported maximum (item 9).
 * Prints a table per section; writes JSON to bench/results/memory-<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, repoRoot } from './lib/common.js';
import { longRecording, runForPeak } from './lib/peak.js';
import { benchStdin } from './memory-stdin.js';
import { benchVocabulary } from './memory-vocab.js';

const CLI = path.join(repoRoot, 'dist/src/cli/main.js');

async function benchDetect(minutesList: number[]): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const [tag, soxArgs] of [['16k-mono', []], ['44k-stereo', ['-r', '44100', '-c', '2']]] as const) {
    for (const minutes of minutesList) {
      const file = await longRecording(minutes, [...soxArgs], tag);
      const run = await runForPeak([CLI, 'detect', '--json', '--vad', 'energy', file]);
      if (run.code !== 0) throw new Error(`detect ${file} exited ${run.code}: ${run.stderr.slice(-500)}`);
      rows.push({ format: tag, minutes, peakMb: run.peakMb, wallSec: run.wallSec, detections: run.stdout.split('\n').filter(Boolean).length });
    }
  }
  return rows;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { skip: { type: 'string' }, minutes: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('node dist/bench/memory.js [--skip detect,stdin,vocab] [--minutes 1,5,25]\n');
    return 0;
  }
  const skip = new Set((values.skip ?? '').split(',').filter(Boolean));
  const minutesList = (values.minutes ?? '1,5,25').split(',').map(Number);
  const results: Record<string, unknown> = { date: new Date().toISOString() };
  const log = (s: string): void => void process.stderr.write(`bench:memory: ${s}\n`);
  if (!skip.has('detect')) {
    log(`gearhear detect over ${minutesList.join(', ')} minutes`);
    const rows = await benchDetect(minutesList);
    results.detect = rows;
    process.stdout.write(formatTable([
      ['detect', 'minutes', 'peak RSS MB', 'wall s', 'detections'],
      ...rows.map((r) => [String(r.format), Number(r.minutes), Number(r.peakMb), Number(r.wallSec), Number(r.detections)]),
    ]) + '\n\n');
  }
  if (!skip.has('stdin')) {
    log(`the daemon on stdin, fed as fast as it reads, ${minutesList.join(', ')} minutes`);
    const rows = await benchStdin(minutesList);
    results.stdin = rows;
    process.stdout.write(formatTable([
      ['daemon stdin', 'minutes', 'peak RSS MB', 'wall s', 'detections'],
      ...rows.map((r) => ['as fast as read', r.minutes, r.peakMb, r.wallSec, r.detections]),
    ]) + '\n\n');
  }
  if (!skip.has('vocab')) {
    log('gearhear detect with vocabularies of growing size');
    const rows = await benchVocabulary();
    results.vocab = rows;
    process.stdout.write(formatTable([
      ['vocabulary terms', 'peak RSS MB', 'load s', 'exit'],
      ...rows.map((r) => [r.terms, r.peakMb, r.wallSec, String(r.code)]),
    ]) + '\n');
  }
  const out = path.join(repoRoot, 'bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, `memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(results, null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((code) => (process.exitCode = code), (err: unknown) => {
    process.stderr.write(`bench:memory: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
