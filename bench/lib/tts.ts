/** Speech synthesis for the benchmarks (flite, espeak-ng, festival), cached as 16 kHz WAVs. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readWavFile } from '../../src/audio/file.js';
import { cacheDir, execFileAsync } from './common.js';

/** `flite:slt` and `festival:slt` are the held-out SLT speaker; espeak-ng voices were used in training. */
export type Voice = `flite:${string}` | `espeak:${string}` | `festival:${string}`;

const FESTIVAL_VOICES: Record<string, string> = { slt: 'voice_cmu_us_slt_arctic_hts', kal: 'voice_kal_diphone' };

async function synthRaw(text: string, voice: Voice, out: string): Promise<void> {
  const [engine, name] = voice.split(':') as [string, string];
  if (engine === 'flite') {
    await execFileAsync('flite', ['-voice', name, '-t', text, '-o', out]);
  } else if (engine === 'espeak') {
    await execFileAsync('espeak-ng', ['-v', name, '-w', out, text]);
  } else {
    const fv = FESTIVAL_VOICES[name];
    if (!fv) throw new Error(`tts: unknown festival voice "${name}" (known: ${Object.keys(FESTIVAL_VOICES).join(', ')})`);
    const txt = `${out}.txt`;
    await writeFile(txt, text);
    try {
      await execFileAsync('text2wave', ['-eval', `(${fv})`, txt, '-o', out]);
    } finally {
      await rm(txt, { force: true });
    }
  }
}

/**
 * 16 kHz mono samples of `text` spoken by `voice`, leading and trailing silence trimmed (so the
 * utterance ends where speech ends). Cached in the bench cache folder by voice and text.
 */
export async function synthesize(text: string, voice: Voice): Promise<Float32Array> {
  const dir = await cacheDir('tts');
  const key = createHash('sha1').update(`${voice}\n${text}`).digest('hex').slice(0, 16);
  const file = path.join(dir, `${key}.wav`);
  if (!existsSync(file)) {
    const raw = path.join(dir, `${key}.raw.wav`);
    try {
      await synthRaw(text, voice, raw);
      await execFileAsync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', `${file}.tmp.wav`,
        'silence', '1', '0.02', '0.3%', 'reverse', 'silence', '1', '0.02', '0.3%', 'reverse']);
      await execFileAsync('mv', [`${file}.tmp.wav`, file]);
    } catch (err) {
      throw new Error(`tts: could not synthesise "${text}" with ${voice}: ${(err as Error).message}`, { cause: err });
    } finally {
      await rm(raw, { force: true });
    }
  }
  return readWavFile(file);
}
