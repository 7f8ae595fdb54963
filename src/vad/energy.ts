import { blockLevelDbfs } from '../audio/level.js';
import type { FrameClassifier } from './frame-gate.js';


export interface EnergyOptions {
  /** A frame is a speech candidate when its level exceeds the noise floor by this many dB. */
  marginDb: number;
  /** ...and is at least this loud (dBFS). Also the lowest value the noise floor can take. */
  minLevelDb: number;
  /** Time constant (s) with which the floor follows the level upwards: slow, so speech does not raise it. */
  floorRiseSeconds: number;
  /** Time constant (s) with which the floor follows the level downwards: fast, so it finds quiet gaps. */
  floorFallSeconds: number;
}

export interface EnergyReading {
  levelDb: number;
  floorDb: number;
  candidate: boolean;
}

/** RMS level of a frame in dBFS (full-scale sine is -3 dBFS, full-scale square 0). */
export const frameLevelDb = blockLevelDbfs;

/**
 * Cheap energy detector with an adaptive noise floor. The floor is an asymmetric
 * smoother of the frame level in dB: it rises slowly and falls quickly, so it settles
 * near the quiet parts of steady machine noise and is pulled back down in the gaps
 * between words. A frame is a speech candidate when it stands out above that floor.
 */
export class EnergyDetector {
  private floorDb: number | undefined;
  private readonly riseAlpha: number;
  private readonly fallAlpha: number;

  constructor(private readonly options: EnergyOptions, frameSeconds: number) {
    validateEnergyOptions(options);
    this.riseAlpha = 1 - Math.exp(-frameSeconds / options.floorRiseSeconds);
    this.fallAlpha = 1 - Math.exp(-frameSeconds / options.floorFallSeconds);
  }

  /** Judge one frame, then let the floor follow it. */
  measure(frame: Float32Array): EnergyReading {
    const levelDb = frameLevelDb(frame);
    const { marginDb, minLevelDb } = this.options;
    const floorBefore = this.floorDb ?? Math.max(levelDb, minLevelDb);
    const candidate = levelDb >= minLevelDb && levelDb > floorBefore + marginDb;
    const alpha = levelDb > floorBefore ? this.riseAlpha : this.fallAlpha;
    this.floorDb = Math.max(minLevelDb, floorBefore + (levelDb - floorBefore) * alpha);
    return { levelDb, floorDb: floorBefore, candidate };
  }

  reset(): void {
    this.floorDb = undefined;
  }
}

function validateEnergyOptions(o: EnergyOptions): void {
  const check = (ok: boolean, key: keyof EnergyOptions, what: string): void => {
    if (!ok) throw new RangeError(`vad energy option ${key}=${String(o[key])} is invalid: ${what}`);
  };
  check(Number.isFinite(o.marginDb) && o.marginDb >= 0, 'marginDb', 'use a number of dB >= 0 (e.g. 8)');
  check(Number.isFinite(o.minLevelDb) && o.minLevelDb <= 0, 'minLevelDb', 'use a dBFS level <= 0 (e.g. -55)');
  check(o.floorRiseSeconds > 0, 'floorRiseSeconds', 'use a time constant > 0 s (e.g. 3)');
  check(o.floorFallSeconds > 0, 'floorFallSeconds', 'use a time constant > 0 s (e.g. 0.1)');
}

/** The energy detector alone as a frame classifier: probability 1 for candidates, else 0. */
export class EnergyClassifier implements FrameClassifier {
  private candidateFrames = 0;

  constructor(private readonly detector: EnergyDetector) {}

  async classify(frame: Float32Array): Promise<number> {
    const { candidate } = this.detector.measure(frame);
    if (candidate) this.candidateFrames++;
    return candidate ? 1 : 0;
  }

  reset(): void {
    this.detector.reset();
  }

  counters(): { candidateFrames: number } {
    return { candidateFrames: this.candidateFrames };
  }

  async dispose(): Promise<void> {}
}
