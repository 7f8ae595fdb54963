/** Loudness in dBFS: the one formula and the one floor used by the VAD, health and detections. */

/** Levels below this (digital silence, log10(0)) read as this, so they stay a JSON number. */
export const LEVEL_FLOOR_DBFS = -150;

/** RMS level in dBFS from a sum of squared samples (full-scale sine is -3 dBFS, full-scale square 0). */
export function levelDbfs(sumSquares: number, samples: number): number {
  const meanSquare = samples > 0 ? sumSquares / samples : 0;
  return meanSquare > 0 ? Math.max(LEVEL_FLOOR_DBFS, 10 * Math.log10(meanSquare)) : LEVEL_FLOOR_DBFS;
}

/** RMS level of a block of samples in dBFS. */
export function blockLevelDbfs(samples: Float32Array): number {
  let sumSquares = 0;
  for (let i = 0; i < samples.length; i++) sumSquares += samples[i]! * samples[i]!;
  return levelDbfs(sumSquares, samples.length);
}
