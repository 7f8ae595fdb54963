/**
 * `request/clip` (fetch one evidence clip, size-limited) and `request/feedback` (an operator's
 * verdict on a detection), served from the evidence store. See docs/mqtt.md, "Evidence and feedback".
 */
import { readFile } from 'node:fs/promises';
import { RequestError, type RequestParams, type RequestRouter } from '../publish/requests.js';
import type { ClipRecorder } from './recorder.js';
import { findClip, type Verdict } from './store.js';
import type { EvidenceWriter } from './writer.js';

export interface EvidenceRequestDeps {
  stateDir: string;
  writer: EvidenceWriter;
  recorder: ClipRecorder;
  /** request/clip refuses clips whose WAV is larger than this (before base64). */
  maxResponseBytes: number;
  /** The running vocabulary's terms: a `wrong-term` verdict must name one of them. */
  terms: () => readonly string[];
  /** Called after each stored verdict. */
  onVerdict?: () => void;
  now?: () => Date;
}

const MAX_TERM_CHARS = 200;

/** `false`, `true` or `wrong-term <term>` (also JSON booleans, or `wrong-term` with a separate `term`). */
export function parseVerdict(params: RequestParams, now: Date): Verdict {
  const v = params.verdict;
  const at = now.toISOString();
  if (v === false || v === 'false') return { verdict: 'false', at };
  if (v === true || v === 'true') return { verdict: 'true', at };
  if (typeof v === 'string' && /^wrong-term(\s|$)/.test(v)) {
    const said = (v.slice('wrong-term'.length).trim() || (typeof params.term === 'string' ? params.term.trim() : ''));
    if (!said) throw new RequestError('a wrong-term verdict names the term that was said: "wrong-term <term>"');
    if (said.length > MAX_TERM_CHARS) throw new RequestError(`the said term is over ${MAX_TERM_CHARS} characters`);
    return { verdict: 'wrong-term', saidTerm: said.toLowerCase().replace(/\s+/g, ' '), at };
  }
  throw new RequestError(`"verdict" must be "false", "true" or "wrong-term <term>" (got ${JSON.stringify(v) ?? 'nothing'})`);
}

/**
 * A `wrong-term` verdict says which term was said: its clip then counts for that term (docs/evidence.md),
 * so it must be a term of the vocabulary, and another one than the term detected.
 */
export function checkSaidTerm(said: string, detected: string, terms: readonly string[]): void {
  if (said === detected) throw new RequestError(`"wrong-term ${said}" names the term that was detected; a right detection is verdict "true"`);
  if (terms.includes(said)) return;
  const closest = [...terms].sort((a, b) => editDistance(said, a) - editDistance(said, b)).slice(0, 3);
  throw new RequestError(`"${said}" is not a term of the vocabulary (${terms.length} terms${closest.length > 0 ? `; the closest: ${closest.join(', ')}` : ''}): ` +
    'a wrong-term verdict names the vocabulary term that was said (a false alarm whose words are not a term is verdict "false")');
}

/** Levenshtein distance, to name the terms closest to one that is not in the vocabulary. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

function idParam(params: RequestParams, names: string[]): string {
  for (const n of names) {
    const v = params[n];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  throw new RequestError(`name the detection: {"${names[0]}": "<detection id, clip id or last>"}`);
}

export function serveEvidenceRequests(router: RequestRouter, deps: EvidenceRequestDeps): void {
  const now = deps.now ?? (() => new Date());
  const notKept = (id: string): RequestError => new RequestError(
    `no evidence clip for "${id}": it was never recorded, or was dropped by the evidence bounds (evidence.maxClips, maxBytes, maxAgeH)`,
  );

  router.handle('feedback', async (params) => {
    const id = idParam(params, ['detection', 'id', 'clip']);
    const verdict = parseVerdict(params, now());
    await deps.recorder.settled(id);
    const found = deps.writer.find(id);
    if (!found) throw notKept(id);
    if (verdict.saidTerm !== undefined) checkSaidTerm(verdict.saidTerm, found.term, deps.terms());
    const { meta, counts } = await deps.writer.setVerdict(id, verdict);
    deps.onVerdict?.();
    return { detection: meta.detectionId, clipId: meta.clipId, term: meta.term, verdict: meta.verdict, counts };
  });

  router.handle('clip', async (params) => {
    const id = idParam(params, ['id', 'clip', 'detection']);
    await deps.recorder.settled(id);
    const found = deps.writer.find(id);
    const clip = found ? await findClip(deps.stateDir, found.clipId) : null;
    if (!clip) throw notKept(id);
    if (clip.wavBytes > deps.maxResponseBytes) {
      throw new RequestError(`clip ${clip.clipId} is ${clip.wavBytes} bytes, over evidence.maxResponseBytes (${deps.maxResponseBytes}); copy it with \`gearhear clips export\``);
    }
    const wav = await readFile(clip.wavPath);
    const { wavPath: _w, metaPath: _m, ...meta } = clip;
    return { ...meta, contentType: 'audio/wav', encoding: 'base64', wav: wav.toString('base64') };
  });
}
