/**
 * `gearhear clips list|export`: the evidence clips the daemon kept (evidence.enabled), read from
 * `<state.dir>/evidence` (src/evidence/store.ts). Export copies each clip's WAV and JSON, e.g. the
 * false alarms as negatives for training: `gearhear clips export --verdict false --out DIR`.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, EX_CONFIG, loadConfig } from '../config/index.js';
import type { GearhearConfig } from '../config/types.js';
import { listClips, type ClipFilter, type ClipRecord, type VerdictKind } from '../evidence/store.js';
import { parseSetFlags } from './set-flags.js';
import { parseCommandArgs, usageError } from './usage.js';

class UsageError extends Error {}

/** The configuration (for state.dir), or null after printing the error (exit 78). Loads no model. */
function loadConfigOrReport(values: { config?: string; set?: string[] }): GearhearConfig | null {
  try {
    return loadConfig({ configFile: values.config, argvOverrides: parseSetFlags(values.set ?? []) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`gearhear: configuration error: ${err.message}\n`);
    return null;
  }
}

const AGE = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };
const VERDICTS = ['false', 'true', 'wrong-term', 'none'] as const;

/** `--since`: an ISO date/time, or an age before `now` (`90m`, `24h`, `7d`). */
export function parseSince(value: string, now = new Date()): Date {
  const age = AGE.exec(value.trim());
  if (age) return new Date(now.getTime() - Number(age[1]) * UNIT_MS[age[2]!]!);
  const t = /^\d{4}-\d\d-\d\d/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`--since "${value}" is neither a date/time (2026-11-30T08:00Z) nor an age (90m, 24h, 7d)`);
  return new Date(t);
}

function filterFrom(values: { since?: string; verdict?: string; term?: string }): ClipFilter {
  const filter: ClipFilter = {};
  if (values.since !== undefined) filter.since = parseSince(values.since);
  if (values.verdict !== undefined) {
    if (!(VERDICTS as readonly string[]).includes(values.verdict)) throw new UsageError(`--verdict must be one of ${VERDICTS.join(', ')}, got "${values.verdict}"`);
    filter.verdict = values.verdict as VerdictKind | 'none';
  }
  if (values.term !== undefined) filter.term = values.term;
  return filter;
}

function verdictText(c: ClipRecord): string {
  if (!c.verdict) return '-';
  return c.verdict.verdict === 'wrong-term' ? `wrong-term (${c.verdict.saidTerm})` : c.verdict.verdict;
}

function listLine(c: ClipRecord): string {
  const secs = (c.clipEnd - c.clipStart).toFixed(1);
  return `${c.clipId}  ${c.timestamp}  ${c.term.padEnd(16)} confidence ${c.confidence.toFixed(2)}  ${secs} s  verdict ${verdictText(c)}`;
}

export async function runClips(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('clips', {
    args, allowPositionals: true,
    options: {
      since: { type: 'string' }, verdict: { type: 'string' }, term: { type: 'string' }, json: { type: 'boolean' },
      out: { type: 'string' }, config: { type: 'string' }, set: { type: 'string', multiple: true },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if ((sub !== 'list' && sub !== 'export') || extra.length > 0 || (sub === 'export' && !values.out) || (sub === 'list' && values.out)) {
    return usageError('clips', sub === 'export' && !values.out ? 'export needs --out DIR' : sub === 'list' && values.out ? '--out is for export' : 'use list or export');
  }
  let filter: ClipFilter;
  try {
    filter = filterFrom(values);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError('clips', err.message);
  }
  const config = loadConfigOrReport(values);
  if (!config) return EX_CONFIG;
  const { clips, skipped } = await listClips(config.state.dir, filter);
  for (const s of skipped) process.stderr.write(`gearhear clips: skipped ${s} (unreadable, or its WAV is missing)\n`);
  if (sub === 'list') {
    for (const c of clips) process.stdout.write(`${values.json ? JSON.stringify(c) : listLine(c)}\n`);
    if (!values.json) process.stderr.write(`${clips.length} clip(s) in ${path.join(config.state.dir, 'evidence')}\n`);
    return 0;
  }
  const out = path.resolve(values.out!);
  await mkdir(out, { recursive: true });
  for (const c of clips) {
    await copyFile(c.wavPath, path.join(out, `${c.clipId}.wav`));
    await copyFile(c.metaPath, path.join(out, `${c.clipId}.json`));
  }
  process.stdout.write(`exported ${clips.length} clip(s) to ${out}\n`);
  return 0;
}
