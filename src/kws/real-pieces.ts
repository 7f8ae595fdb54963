/**
 * A term nobody in the corpus said, put together from real speech: unit selection over the corpus's
 * phones (`vocab compile --real-speech`, for terms with too few whole occurrences). The term's phones
 * are covered left to right by the longest phone sequences found in the corpus's transcripts (inside
 * or across words), from one speaker where that speaker has them, else from another; each source
 * utterance is force-aligned phone by phone by PocketSphinx, the pieces cut, level-matched and joined
 * with short cross-fades, and the speaker's own speech before the first piece and after the last is
 * kept as context. Utterances that say the term itself are never used, so the term is always built.
 */
import { readFile } from 'node:fs/promises';
import { alignPhones, decodeWithSox, type RealOccurrence, type RealSpeechRow } from './real-words.js';

const SAMPLE_RATE = 16000;
/** Longest phone sequence looked up as one piece. */
const MAX_PIECE = 6;
const FADE = SAMPLE_RATE / 200; // 5 ms
/** How many made occurrences of one term may use the same place in the corpus. */
const MAX_USES = 2;

export const CMU_DICT = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';

/**
 * Each word's first pronunciation in a CMU-format dictionary (upper-case ARPAbet, no stress marks);
 * only the `wanted` words when given (the whole dictionary is 134,000 words).
 */
export async function readPronunciations(file = CMU_DICT, wanted?: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const [word, ...phones] = line.trim().split(/\s+/);
    if (!word || phones.length === 0 || word.includes('(') || (wanted && !wanted.has(word.toLowerCase()))) continue;
    out.set(word.toLowerCase(), phones.map((p) => p.replace(/\d$/, '').toUpperCase()));
  }
  return out;
}

interface Piece { row: number; at: number; n: number }

export class PhonePieces {
  /** "P1 P2 ..." -> where it is said: utterance index and first phone, in pairs, flat (small in memory). */
  private readonly grams = new Map<string, number[]>();
  /** Phone bounds of the rows aligned so far (not their audio: that is decoded again when cut, to keep memory flat). */
  private readonly aligned = new Map<number, Promise<Array<[number, number]> | null>>();
  /** Rows PocketSphinx could not align phone by phone (said otherwise than their first pronunciations): never used again. */
  private readonly unaligned = new Set<number>();

  private constructor(private readonly rows: ReadonlyArray<RealSpeechRow & { phones: string[] }>) {
    rows.forEach((r, u) => {
      for (let i = 0; i < r.phones.length; i++) {
        for (let n = 1; n <= MAX_PIECE && i + n <= r.phones.length; n++) {
          const key = r.phones.slice(i, i + n).join(' ');
          const list = this.grams.get(key);
          if (list) list.push(u, i); else this.grams.set(key, [u, i]);
        }
      }
    });
  }

  /** The rows whose every word `dict` pronounces. */
  static build(rows: readonly RealSpeechRow[], dict: ReadonlyMap<string, string[]>): PhonePieces {
    const usable: Array<RealSpeechRow & { phones: string[] }> = [];
    for (const r of rows) {
      const prons = r.text.split(' ').map((w) => dict.get(w));
      if (prons.every((p) => p !== undefined)) usable.push({ ...r, phones: prons.flat() as string[] });
    }
    return new PhonePieces(usable);
  }

  get utterances(): number { return this.rows.length; }

  /**
   * Pieces covering `phones` left to right: at each point the longest phone sequence still free (each
   * place in the corpus serves a term at most `MAX_USES` times, so later covers use other speakers),
   * from the speaker of the piece before where that speaker has one. Never from a row saying `term`.
   */
  private cover(phones: readonly string[], term: string, used: Map<string, number>, rng: () => number): Piece[] | null {
    const pieces: Piece[] = [];
    let speaker = '';
    for (let i = 0; i < phones.length;) {
      let found: Piece | null = null;
      for (let n = Math.min(MAX_PIECE, phones.length - i); n >= 1 && !found; n--) {
        const flat = this.grams.get(phones.slice(i, i + n).join(' ')) ?? [];
        const at = Array.from({ length: flat.length / 2 }, (_, j): [number, number] => [flat[2 * j]!, flat[2 * j + 1]!])
          .filter(([u, k]) => (used.get(`${u}:${k}:${n}`) ?? 0) < MAX_USES && !this.unaligned.has(u) && !` ${this.rows[u]!.text} `.includes(` ${term} `));
        if (at.length === 0) continue;
        const same = at.filter(([u]) => this.rows[u]!.speaker === speaker);
        const from = same.length > 0 ? same : at;
        const [row, first] = from[Math.floor(rng() * from.length)]!;
        found = { row, at: first, n };
      }
      if (!found) return null;
      used.set(`${found.row}:${found.at}:${found.n}`, (used.get(`${found.row}:${found.at}:${found.n}`) ?? 0) + 1);
      speaker = this.rows[found.row]!.speaker;
      pieces.push(found);
      i += found.n;
    }
    return pieces;
  }

  private async align(row: number): Promise<{ speech: Float32Array; bounds: Array<[number, number]> } | null> {
    const r = this.rows[row]!;
    let p = this.aligned.get(row);
    if (!p) {
      p = alignPhones(r.file, r.phones).then((bounds) => {
        if (!bounds) this.unaligned.add(row);
        return bounds;
      });
      this.aligned.set(row, p);
    }
    const bounds = await p;
    return bounds ? { speech: await decodeWithSox(r.file), bounds } : null;
  }

  /**
   * Up to `max` made occurrences of `term` (its phones `phones`): the joined pieces between the first
   * source's speech before its piece and the last source's speech after its piece. Fewer when the
   * corpus lacks a phone or its sources do not align.
   */
  async occurrences(term: string, phones: readonly string[], max: number, rng: () => number): Promise<RealOccurrence[]> {
    const out: RealOccurrence[] = [];
    const used = new Map<string, number>();
    for (let tries = 0; out.length < max && tries < max * 3; tries++) {
      const pieces = this.cover(phones, term, used, rng);
      if (!pieces) break; // a phone nobody said: no try will find it
      const cut: Float32Array[] = [];
      let before = new Float32Array(0), after = new Float32Array(0), ok = true;
      for (const [k, p] of pieces.entries()) {
        const a = await this.align(p.row);
        if (!a) { ok = false; break; }
        const start = a.bounds[p.at]![0], end = a.bounds[p.at + p.n - 1]![1];
        cut.push(a.speech.slice(Math.max(0, start - FADE), Math.min(a.speech.length, end + FADE)));
        if (k === 0) before = a.speech.slice(0, Math.max(0, start - FADE));
        if (k === pieces.length - 1) after = a.speech.slice(Math.min(a.speech.length, end + FADE));
      }
      if (!ok) continue;
      const said = joinPieces(cut);
      const speech = new Float32Array(before.length + said.length + after.length);
      speech.set(before);
      speech.set(said, before.length);
      speech.set(after, before.length + said.length);
      out.push({ speech, start: before.length, end: before.length + said.length, speaker: this.rows[pieces[0]!.row]!.speaker, file: `${pieces.length} pieces` });
    }
    return out;
  }
}

const rmsOf = (x: Float32Array): number => { let s = 0; for (const v of x) s += v * v; return Math.sqrt(s / Math.max(1, x.length)); };

/** Pieces at the first one's level, each overlapping the next by 5 ms with a linear cross-fade. */
export function joinPieces(pieces: readonly Float32Array[]): Float32Array {
  const level = rmsOf(pieces[0] ?? new Float32Array(0)) + 1e-9;
  const scaled = pieces.map((p) => { const g = level / (rmsOf(p) + 1e-9); return Float32Array.from(p, (v) => v * g); });
  const total = scaled.reduce((a, p) => a + p.length, 0) - FADE * Math.max(0, scaled.length - 1);
  const out = new Float32Array(Math.max(0, total));
  let at = 0;
  for (const [k, p] of scaled.entries()) {
    const fade = k === 0 ? 0 : Math.min(FADE, p.length, at);
    for (let i = 0; i < p.length; i++) {
      const j = at - fade + i;
      if (j >= out.length) break;
      out[j] = i < fade ? out[j]! * (1 - i / fade) + p[i]! * (i / fade) : p[i]!;
    }
    at += p.length - fade;
  }
  return out;
}
