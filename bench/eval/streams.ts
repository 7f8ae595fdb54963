/** Evaluation streams: clips joined with gaps into one recording, optionally over a machine-noise bed. */
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { NoisePool, rms, scaleTo } from '../lib/data.js';
import type { ReferenceSpan } from '../lib/scoring.js';

export interface Clip {
  samples: Float32Array;
  targets: string[];
  allowed: string[];
}

export interface EvalStream {
  pcm: Float32Array;
  spans: ReferenceSpan[];
}

export interface JoinOptions {
  gapSec: number;
  /** Scale every clip to this RMS first (null: keep recorded levels). */
  speechRms: number | null;
  /** Noise under everything at this SNR relative to `speechRms` (null: none). */
  snrDb: number | null;
  noise?: NoisePool;
  rand?: () => number;
}

export function joinClips(clips: readonly Clip[], o: JoinOptions): EvalStream {
  const gap = Math.round(o.gapSec * SAMPLE_RATE);
  const total = clips.reduce((n, c) => n + c.samples.length + gap, gap);
  const pcm = new Float32Array(total);
  const spans: ReferenceSpan[] = [];
  let at = gap;
  for (const c of clips) {
    const s = o.speechRms === null ? c.samples : scaleTo(Float32Array.from(c.samples), o.speechRms);
    pcm.set(s, at);
    spans.push({ start: at / SAMPLE_RATE, end: (at + s.length) / SAMPLE_RATE, targets: c.targets, allowed: c.allowed });
    at += s.length + gap;
  }
  if (o.snrDb !== null) {
    if (!o.noise || !o.rand) throw new Error('joinClips: a noise pool and random source are needed for an SNR');
    const level = (o.speechRms ?? rms(pcm)) * 10 ** (-o.snrDb / 20);
    // Noise beds of 10-30 s from different machines, one after another.
    for (let pos = 0; pos < total;) {
      const len = Math.min(total - pos, Math.round((10 + 20 * o.rand()) * SAMPLE_RATE));
      const bed = scaleTo(o.noise.cut(len, o.rand).samples, level);
      for (let i = 0; i < len; i++) pcm[pos + i] += bed[i]!;
      pos += len;
    }
  }
  return { pcm, spans };
}

/** Recordings one after another with gaps, levels as recorded, no targets (false alarms only). */
export function joinNegatives(recordings: readonly Float32Array[], gapSec: number): EvalStream {
  return joinClips(recordings.map((samples) => ({ samples, targets: [], allowed: [] })), { gapSec, speechRms: null, snrDb: null });
}
