/** Model-only speed in onnxruntime-node on one core, and the model's size. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import type { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { median, round } from '../lib/common.js';

export interface ModelSpeed {
  audioSec: number;
  runs: number;
  /** Median seconds per run / audio seconds. */
  rtf: number;
  runSec: number[];
  /** The same audio streamed as the daemon streams a segment: 32 ms pieces, the model's streaming mode and chunk. */
  stream: { mode: 'cache' | 'recompute'; rtf: number };
  parameters: number | null;
  fileBytes: number;
  fileMb: number;
}

/** OnnxAcousticModel.run over `audio` (whole buffer, like a long segment), after one warm-up run. */
export async function measureModelSpeed(model: OnnxAcousticModel, modelDir: string, audio: Float32Array, runs = 5): Promise<ModelSpeed> {
  await model.run(audio.subarray(0, SAMPLE_RATE));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await model.run(audio);
    times.push((performance.now() - t0) / 1000);
  }
  const streamTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const stream = model.createStream();
    for (let at = 0; at < audio.length; at += 512) await stream.accept(audio.subarray(at, at + 512));
    await stream.finish();
    streamTimes.push((performance.now() - t0) / 1000);
  }
  const v = model.manifest.variants[model.variant]!;
  const bytes = (await stat(path.join(modelDir, v.file))).size;
  const audioSec = audio.length / SAMPLE_RATE;
  return {
    audioSec: round(audioSec, 1), runs, rtf: round(median(times) / audioSec, 5), runSec: times.map((t) => round(t, 3)),
    stream: { mode: model.streaming, rtf: round(median(streamTimes) / audioSec, 5) },
    parameters: v.parameters ?? null, fileBytes: bytes, fileMb: round(bytes / 1048576, 2),
  };
}
