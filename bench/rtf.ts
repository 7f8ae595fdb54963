/** Full-pipeline real-time factor of `detect` (decode, VAD, model, search) and its accuracy on the recording. */
import { readWavFile } from '../src/audio/file.js';
import { detectSamples, type FileDetections } from '../src/listen/detect-audio.js';
import type { OnnxAcousticModel } from '../src/model/onnx-model.js';
import type { KeywordSpec } from '../src/kws/types.js';
import { round } from './lib/common.js';
import type { Recording } from './lib/recording.js';
import { scoreDetections, type Score } from './lib/scoring.js';

export interface StageTimes {
  decodeSec: number;
  vadSec: number;
  modelSec: number;
  searchSec: number;
  otherSec: number;
  totalSec: number;
}

export interface RtfResult {
  audioSec: number;
  speechSecGated: number;
  runs: number;
  /** Median over runs; RTF = processing time / audio duration. */
  rtf: number;
  rtfAll: number[];
  stages: StageTimes;
  /** Stage time / audio duration. */
  stageRtf: Omit<StageTimes, 'totalSec'>;
  detections: number;
  score: Score;
}

export async function measureRtf(rec: Recording, model: OnnxAcousticModel, keywords: readonly KeywordSpec[], runs: number): Promise<{ result: RtfResult; last: FileDetections }> {
  const all: Array<{ stages: StageTimes; out: FileDetections }> = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const pcm = await readWavFile(rec.file);
    const decodeSec = (performance.now() - t0) / 1000;
    const out = await detectSamples(rec.file, pcm, { model, keywords });
    const totalSec = (performance.now() - t0) / 1000;
    const t = out.timings;
    all.push({ out, stages: { decodeSec, vadSec: t.vadSec, modelSec: t.modelSec, searchSec: t.searchSec, otherSec: totalSec - decodeSec - t.vadSec - t.modelSec - t.searchSec, totalSec } });
  }
  all.sort((a, b) => a.stages.totalSec - b.stages.totalSec);
  const mid = all[Math.floor((all.length - 1) / 2)]!;
  const audioSec = mid.out.durationSec;
  const s = mid.stages;
  const score = scoreDetections(mid.out.detections, rec.utterances, audioSec);
  return {
    last: mid.out,
    result: {
      audioSec, speechSecGated: round(mid.out.timings.speechSec, 1), runs,
      rtf: round(s.totalSec / audioSec, 4), rtfAll: all.map((a) => round(a.stages.totalSec / audioSec, 4)),
      stages: { decodeSec: round(s.decodeSec), vadSec: round(s.vadSec), modelSec: round(s.modelSec), searchSec: round(s.searchSec), otherSec: round(s.otherSec), totalSec: round(s.totalSec) },
      stageRtf: { decodeSec: round(s.decodeSec / audioSec, 5), vadSec: round(s.vadSec / audioSec, 5), modelSec: round(s.modelSec / audioSec, 5), searchSec: round(s.searchSec / audioSec, 5), otherSec: round(s.otherSec / audioSec, 5) },
      detections: mid.out.detections.length,
      score,
    },
  };
}

