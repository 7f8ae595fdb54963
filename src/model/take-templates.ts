/**
 * Take templates for site heads (`gearhear adapt`): the last TEMPLATE_FRAMES speech embeddings of an
 * enrolled take, matched by dynamic time warping against the end of each window the heads read, as
 * Rhasspy Raven and Snowboy's personal models match a user's own takes. A site head reads the best
 * match over its term's templates as one more input beside the heads' features.
 *
 * Frames are L2-normalised and kept as int8 (x 127) wherever they are stored, in the site heads file
 * as in the rows `gearhear adapt` fits on, so that fitting and the detector compute the same match.
 */

/** Embeddings (80 ms hops; each sees ~0.78 s of audio) in a template. */
export const TEMPLATE_FRAMES = 6;
/** The end of the window that matching reads, in embeddings. */
export const MATCH_FRAMES = 12;
/** A template must end in one of the window's last END_SLACK embeddings (a take ends 0-3 hops before a positive window's end). */
export const END_SLACK = 4;
const Q = 127;

/** The last MATCH_FRAMES embeddings of a window [window x dim], each L2-normalised, as int8. */
export function windowEnd(window: Float32Array, dim: number, out = new Int8Array(MATCH_FRAMES * dim)): Int8Array {
  const frames = window.length / dim;
  if (frames < MATCH_FRAMES) throw new RangeError(`take templates: windows of ${frames} embeddings; matching reads the last ${MATCH_FRAMES}`);
  for (let j = 0; j < MATCH_FRAMES; j++) {
    const f = window.subarray((frames - MATCH_FRAMES + j) * dim, (frames - MATCH_FRAMES + j + 1) * dim);
    let norm = 0;
    for (const v of f) norm += v * v;
    const s = norm > 0 ? Q / Math.sqrt(norm) : 0;
    for (let k = 0; k < dim; k++) out[j * dim + k] = Math.round(f[k]! * s);
  }
  return out;
}

/** A take's template: the last TEMPLATE_FRAMES embeddings of the window ending at the take's end, from its windowEnd. */
export function templateOf(end: Int8Array, dim: number): Int8Array {
  return end.slice((MATCH_FRAMES - TEMPLATE_FRAMES) * dim, MATCH_FRAMES * dim);
}

/**
 * How well a template matches the end of a window (both int8 frames): 1 - the mean cosine distance
 * along the best warping path that covers the whole template, starting anywhere in the window's end
 * and ending in its last END_SLACK embeddings. 1 is identical; unrelated speech scores near 0.
 */
export function matchScore(end: Int8Array, template: Int8Array, dim: number, endOffset = 0): number {
  const m = template.length / dim, c = MATCH_FRAMES;
  // Two rows of the accumulated cost, reused: this runs for every window and template (no allocation).
  let prev = rowA, cur = rowB;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < c; j++) {
      let dot = 0;
      for (let k = 0, a = i * dim, b = endOffset + j * dim; k < dim; k++) dot += template[a + k]! * end[b + k]!;
      const cost = 1 - dot / (Q * Q);
      cur[j] = i === 0 ? cost : cost + (j === 0 ? prev[0]! : Math.min(prev[j - 1]!, prev[j]!, cur[j - 1]!));
    }
    [prev, cur] = [cur, prev];
  }
  let low = Infinity;
  for (let j = c - END_SLACK; j < c; j++) low = Math.min(low, prev[j]!);
  return 1 - low / m;
}
const rowA = new Float64Array(MATCH_FRAMES), rowB = new Float64Array(MATCH_FRAMES);

/** The best match over `templates` (-1 with none). */
export function bestMatch(end: Int8Array, templates: readonly Int8Array[], dim: number, endOffset = 0): number {
  let best = -1;
  for (const t of templates) best = Math.max(best, matchScore(end, t, dim, endOffset));
  return best;
}

export function encodeTemplate(t: Int8Array): string {
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64');
}

export function decodeTemplate(s: string): Int8Array {
  const b = Buffer.from(s, 'base64');
  return new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
