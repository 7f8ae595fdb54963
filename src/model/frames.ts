import type { ModelManifest } from './manifest.js';

/** Output frames a model yields for `samples` input samples (one run of the whole-segment graph). */
export function framesFor(m: ModelManifest, samples: number): number {
  // The front end frames the audio in whole hops: an analysis window spans ceil(window / hop) of them.
  const hops = Math.floor(samples / m.hopSamples) - Math.ceil(m.windowSamples / m.hopSamples) + 1;
  return hops < 2 ? 0 : Math.floor((hops - 2) / m.subsample) + 1;
}
