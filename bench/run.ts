/**
 * `npm run bench [-- --minutes N | --quick] [--soak]`: speed, latency, memory and CPU of gearhear on
 * this machine, and PocketSphinx keyword spotting on the same recording. Prints tables; writes JSON
 * to bench/results/<timestamp>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureIdleCpu, measureLatency } from './daemon-bench.js';
import { formatTable, repoRoot, round } from './lib/common.js';
import { startBroker } from './lib/broker.js';
import { runPocketsphinx, POCKETSPHINX_DEFAULTS } from './lib/pocketsphinx.js';
import { buildRecording, type Recording } from './lib/recording.js';
import { scoreDetections } from './lib/scoring.js';
import { DEFAULT_MODEL_DIR, DEFAULT_VOCAB, loadModel, loadVocab, machineInfo, modelInfo, parseNumber, parseVariant } from './lib/setup.js';
import type { Voice } from './lib/tts.js';
import { measureRtf } from './rtf.js';
import { runSoak } from './soak.js';

const USAGE = `node dist/bench/run.js [options]
  --minutes N          length of the mixed recording (default 30)
  --quick              2 minutes, short daemon runs (for trying it)
  --runs N             repeats of the detect run, median reported (default 3 up to 5 minutes, else 1)
  --model DIR --variant int8|fp32 --vocab FILE
  --kws-threshold X    default keyword threshold (terms without their own)
  --ps-exponent X      PocketSphinx keyphrase threshold 1e-(X x phones) (default 1)
  --latency-minutes N  term-final utterances for the latency run, at real time (default 2)
  --skip LIST          comma list of: rtf,speech,latency,cpu,pocketsphinx
  --soak               also run the soak: --soak-minutes (audio, default 600) at --soak-speed (default 10),
                       broker restarted every --soak-restart-s (default 180) for --soak-down-s (default 3);
                       --soak-trail FILE appends a JSON line a minute (RSS, audio done) while it runs
Environment: GEARHEAR_BENCH_MINUTES sets --minutes.`;

const VOICES: Voice[] = ['flite:slt', 'espeak:en-us'];

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      minutes: { type: 'string' }, quick: { type: 'boolean' }, runs: { type: 'string' }, model: { type: 'string' }, variant: { type: 'string' },
      vocab: { type: 'string' }, 'kws-threshold': { type: 'string' }, skip: { type: 'string' }, soak: { type: 'boolean' },
      'ps-exponent': { type: 'string' }, 'latency-minutes': { type: 'string' },
      'soak-minutes': { type: 'string' }, 'soak-speed': { type: 'string' }, 'soak-restart-s': { type: 'string' }, 'soak-down-s': { type: 'string' }, 'soak-trail': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help) { process.stdout.write(USAGE + '\n'); return 0; }
  const quick = a.quick ?? false;
  const minutes = quick ? 2 : parseNumber('minutes', a.minutes ?? process.env.GEARHEAR_BENCH_MINUTES, 30);
  const runs = parseNumber('runs', a.runs, minutes <= 5 ? 3 : 1);
  const skip = new Set((a.skip ?? '').split(',').filter(Boolean));
  const modelDir = path.resolve(a.model ?? DEFAULT_MODEL_DIR);
  const vocabPath = path.resolve(a.vocab ?? DEFAULT_VOCAB);
  const variant = parseVariant(a.variant);
  const threshold = a['kws-threshold'] === undefined ? undefined : parseNumber('kws-threshold', a['kws-threshold'], 0.5);
  const model = await loadModel(modelDir, variant);
  const vocab = await loadVocab(vocabPath, threshold);
  const terms = vocab.vocab.terms.map((t) => t.term);
  const daemonEnv: Record<string, string> = {
    GEARHEAR_MODEL: modelDir, GEARHEAR_MODEL_VARIANT: model.variant, GEARHEAR_VOCAB: vocabPath,
    ...(threshold !== undefined ? { GEARHEAR_KWS_THRESHOLD: String(threshold) } : {}),
  };
  const results: Record<string, unknown> = { date: new Date().toISOString(), machine: machineInfo(), model: modelInfo(model, modelDir), vocabulary: { file: vocabPath, terms: terms.length, version: vocab.vocab.version }, minutes };
  const tables: string[] = [];
  const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

  log(`building the ${minutes}-minute mixed recording (cached in the temp folder)`);
  const mixed = await buildRecording({ minutes, kind: 'mixed', terms, voices: VOICES });
  results.recording = describe(mixed);

  if (!skip.has('rtf')) {
    log(`detect over the mixed recording, ${runs} run(s)`);
    const { result } = await measureRtf(mixed, model, vocab.specs, runs);
    results.detect = result;
    const st = result.stageRtf;
    tables.push(formatTable([
      ['detect (mixed)', 'audio s', 'RTF', 'decode', 'VAD', 'model', 'search', 'other', 'recall', 'FA/h'],
      ['gearhear', round(result.audioSec, 1), result.rtf, st.decodeSec, st.vadSec, st.modelSec, st.searchSec, st.otherSec, round(result.score.recall, 3), round(result.score.falseAlarmsPerHour, 1)],
    ]));
    if (!skip.has('pocketsphinx')) {
      log('pocketsphinx over the mixed recording');
      const psOptions = { exponentPerPhone: parseNumber('ps-exponent', a['ps-exponent'], POCKETSPHINX_DEFAULTS.exponentPerPhone) };
      const ps = await runPocketsphinx(mixed.file, terms.map((t) => t.toLowerCase()), vocabPath, psOptions);
      const score = scoreDetections(ps.detections, mixed.utterances, mixed.durationSec);
      results.pocketsphinx = { rtf: round(ps.wallSec / mixed.durationSec, 4), wallSec: round(ps.wallSec, 2), detections: ps.detections.length, score, options: psOptions, command: ps.command };
      tables[tables.length - 1] += '\n' + formatTable([
        ['pocketsphinx -kws', 'audio s', 'RTF', 'recall', 'FA/h', 'detections'],
        ['pocketsphinx', round(mixed.durationSec, 1), round(ps.wallSec / mixed.durationSec, 4), round(score.recall, 3), round(score.falseAlarmsPerHour, 1), ps.detections.length],
      ]);
    }
  }
  if (!skip.has('speech')) {
    const speechMin = Math.min(minutes, quick ? 1 : 5);
    log(`detect over ${speechMin} minute(s) of speech only`);
    const dense = await buildRecording({ minutes: speechMin, kind: 'speech', terms, voices: VOICES });
    const { result } = await measureRtf(dense, model, vocab.specs, runs);
    results.detectSpeechOnly = result;
    tables.push(formatTable([
      ['detect (speech only)', 'audio s', 'gated speech s', 'RTF', 'VAD', 'model', 'search'],
      ['gearhear', round(result.audioSec, 1), result.speechSecGated, result.rtf, result.stageRtf.vadSec, result.stageRtf.modelSec, result.stageRtf.searchSec],
    ]));
  }
  await model.dispose();

  if (!skip.has('latency') || !skip.has('cpu') || a.soak) {
    const broker = await startBroker();
    try {
      if (!skip.has('latency')) {
        const latMin = quick ? 1 : parseNumber('latency-minutes', a['latency-minutes'], 2);
        log(`daemon at real time on ${latMin} minute(s) of utterances ending in a term`);
        const termFinal = await buildRecording({ minutes: latMin, kind: 'term-final', terms, voices: VOICES });
        const { latency, memory } = await measureLatency(termFinal, broker.url, daemonEnv);
        results.latency = latency;
        results.memory = memory;
        const l = latency.fromTermEndMs, d = latency.fromDetectedEndMs;
        tables.push(formatTable([
          ['latency to broker (ms)', 'n', 'p50', 'p95', 'max'],
          ['from term end', l.n, l.p50, l.p95, l.max],
          ['from detected end', d.n, d.p50, d.p95, d.max],
        ]));
        tables.push(formatTable([
          ['memory (MB)', 'RSS after load', 'RSS steady', 'RSS peak', 'heap median', 'heap max', 'CPU % speaking'],
          ['daemon', memory.rssAfterLoadMb, memory.rssSteadyMb, memory.rssPeakMb, memory.heapUsedMedianMb, memory.heapUsedMaxMb, memory.cpuPctWhileSpeaking],
        ]));
      }
      if (!skip.has('cpu')) {
        const seconds = quick ? 20 : 60;
        log(`daemon on ${seconds} s of silence and ${seconds} s of machine noise`);
        const idle = await measureIdleCpu(seconds, broker.url, daemonEnv);
        results.idleCpu = idle;
        tables.push(formatTable([['CPU, % of one core', 'silence', `machine noise (${idle.machineNoiseLevelDbfs} dBFS)`, 'detections in noise'], ['daemon', idle.silencePct, idle.machineNoisePct, idle.detectionsInNoise]]));
      }
      if (a.soak) {
        const o = {
          audioMinutes: parseNumber('soak-minutes', a['soak-minutes'], 600), speed: parseNumber('soak-speed', a['soak-speed'], 10),
          restartEverySec: parseNumber('soak-restart-s', a['soak-restart-s'], 180), downSec: parseNumber('soak-down-s', a['soak-down-s'], 3), env: daemonEnv,
          trailFile: a['soak-trail'],
        };
        log(`soak: ${o.audioMinutes} min of audio at ${o.speed}x, broker restarted every ${o.restartEverySec} s`);
        const soak = await runSoak(mixed, broker, o);
        results.soak = soak;
        tables.push(formatTable([
          ['soak', 'audio min', 'wall min', 'restarts', 'RSS start', 'RSS end', 'MB/h wall', 'MB/h audio', 'made', 'arrived', 'all arrived'],
          ['daemon', soak.audioMinutes, soak.wallMinutes, soak.brokerRestarts, soak.rssStartMb, soak.rssEndMb, soak.rssGrowthMbPerWallHour, soak.rssGrowthMbPerAudioHour, soak.detectionsMade, soak.detectionsArrived, String(soak.allArrived)],
        ]));
      }
    } finally {
      await broker.close();
    }
  }

  const outDir = path.join(repoRoot, 'bench/results');
  await mkdir(outDir, { recursive: true });
  const outFile = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(outFile, JSON.stringify(results, null, 2) + '\n');
  const m = results.model as { id: string; version: string; variant: string };
  process.stdout.write(`\ngearhear bench: model ${m.id} ${m.version} (${m.variant}), 1 intra-op thread, ${minutes} min recording\n\n${tables.join('\n\n')}\n\nRTF = processing time / audio time (lower is faster). Results: ${path.relative(process.cwd(), outFile)}\n`);
  return 0;
}

function describe(r: Recording): Record<string, unknown> {
  const targets = r.utterances.reduce((n, u) => n + u.targets.length, 0);
  return { file: r.file, durationSec: round(r.durationSec, 1), speechSec: round(r.speechSec, 1), noiseSec: round(r.noiseSec, 1), silenceSec: round(r.silenceSec, 1), utterances: r.utterances.length, targetTerms: targets };
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
