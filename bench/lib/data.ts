/** The shared development data (../shared/data): manifest rows and machine-noise beds. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { sharedData } from './common.js';

export interface ManifestRow {
  path: string;
  /** Absolute path of the WAV. */
  file: string;
  kind: 'sentence' | 'word' | 'noise';
  text: string;
  durationS: number;
  speaker: string;
  use: 'train+eval' | 'eval-only';
}

export { splitCsvLine } from '../../src/csv.js';
import { splitCsvLine } from '../../src/csv.js';

export async function readManifest(dataDir = sharedData): Promise<ManifestRow[]> {
  const file = path.join(dataDir, 'manifest.csv');
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new Error(`cannot read ${file} (${(err as Error).message}); the benchmarks need the shared data beside the repository`, { cause: err });
  });
  const lines = text.split(/\r?\n/).filter(Boolean);
  const header = splitCsvLine(lines[0]!);
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no "${name}" column`);
    return i;
  };
  const c = { path: col('path'), kind: col('kind'), text: col('text'), dur: col('duration_s'), speaker: col('speaker'), use: col('use') };
  return lines.slice(1).map((line) => {
    const f = splitCsvLine(line);
    return {
      path: f[c.path]!, file: path.join(dataDir, f[c.path]!), kind: f[c.kind] as ManifestRow['kind'], text: f[c.text]!,
      durationS: Number(f[c.dur]), speaker: f[c.speaker]!, use: f[c.use] as ManifestRow['use'],
    };
  });
}

/** Machine noise only: no clips with voices, animals or dishes in them. */
const NOT_MACHINE = /machine09|world1|dude_miaowing|doing_the_dishes|kitchen|running_tap|f16noise|anomaly_/;

export function machineNoiseRows(rows: readonly ManifestRow[]): ManifestRow[] {
  return rows.filter((r) => r.kind === 'noise' && !NOT_MACHINE.test(r.path));
}

/** A pool of machine-noise recordings to cut beds from. Picks a spread of sources, at most `maxFiles`. */
export class NoisePool {
  private constructor(readonly clips: Array<{ name: string; samples: Float32Array }>) {}

  static async load(rows: readonly ManifestRow[], maxFiles = 16): Promise<NoisePool> {
    const machine = machineNoiseRows(rows);
    if (machine.length === 0) throw new Error(`no machine-noise rows in the manifest of ${sharedData}`);
    // Round-robin over source folders so one big folder (dcase) does not crowd out the others.
    const byFolder = new Map<string, ManifestRow[]>();
    for (const r of machine) {
      const folder = r.path.split('/')[1] ?? '';
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), r]);
    }
    const chosen: ManifestRow[] = [];
    for (let i = 0; chosen.length < maxFiles && chosen.length < machine.length; i++) {
      for (const list of byFolder.values()) if (list[i] && chosen.length < maxFiles) chosen.push(list[i]!);
    }
    const clips = await Promise.all(chosen.map(async (r) => ({ name: r.path, samples: await readWavFile(r.file) })));
    return new NoisePool(clips);
  }

  /** `length` samples of noise from one clip (looped if short), starting at a random place. */
  cut(length: number, rand: () => number): { name: string; samples: Float32Array } {
    const clip = this.clips[Math.floor(rand() * this.clips.length)]!;
    const out = new Float32Array(length);
    let pos = Math.floor(rand() * clip.samples.length);
    for (let i = 0; i < length; i++, pos++) out[i] = clip.samples[pos % clip.samples.length]!;
    return { name: clip.name, samples: out };
  }
}

export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** Scales `x` in place to an RMS of `target`. */
export function scaleTo(x: Float32Array, target: number): Float32Array {
  const r = rms(x);
  if (r > 0) for (let i = 0; i < x.length; i++) x[i] *= target / r;
  return x;
}
