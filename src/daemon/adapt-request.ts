/**
 * `request/adapt` over MQTT: `gearhear adapt --json` in a separate, lower-priority process (fitting
 * takes tens of seconds of CPU per term and would stall the event loop, and so the audio), with the
 * daemon's own settings for what it reads and writes. One at a time. The daemon then reloads the
 * site heads (swapped at the next speech segment, as a vocabulary reload is) and answers with what
 * changed.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { GearhearConfig } from '../config/types.js';
import { RequestError, type RequestParams } from '../publish/requests.js';

/** Niceness of the adapt process: the daemon's listening comes first. */
const ADAPT_NICENESS = 10;
/** Lines of the adapt process's stderr kept for an error answer. */
const STDERR_TAIL = 4;

export interface AdaptTermAnswer { term: string; accepted: boolean; refusals: string[]; guard: Record<string, number>; takes: number; seconds: number }
export interface AdaptRunResult { exitCode: number | null; terms: AdaptTermAnswer[]; stderr: string }

/** The configuration keys `gearhear adapt` reads, as --set flags, so the child adapts what the daemon runs. */
export function adaptSettings(c: GearhearConfig): string[] {
  const keys: Record<string, string | number> = {
    'vocab.file': c.vocab.file, 'state.dir': c.state.dir, 'model.detector': c.model.detector, 'model.headsDir': c.model.headsDir,
    'model.embedding': c.model.embedding, 'model.headsThreshold': c.model.headsThreshold, 'model.headsPatience': c.model.headsPatience,
    'model.intraOpThreads': c.model.intraOpThreads, 'kws.threshold': c.kws.threshold, 'kws.refractoryMs': c.kws.refractoryMs,
    'enrolment.minTakes': c.enrolment.minTakes, 'enrolment.targetFaPerHour': c.enrolment.targetFaPerHour,
    'enrolment.maxTakesPerTerm': c.enrolment.maxTakesPerTerm, 'enrolment.maxAgeH': c.enrolment.maxAgeH,
  };
  return Object.entries(keys).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
}

/** The `terms` parameter: absent, or a list of term strings. */
export function adaptTerms(params: RequestParams): string[] | undefined {
  const t = params['terms'];
  if (t === undefined) return undefined;
  if (!Array.isArray(t) || t.some((x) => typeof x !== 'string' || x.includes(','))) throw new RequestError('adapt: terms must be a list of vocabulary terms, e.g. {"terms": ["oil leak"]}');
  return t as string[];
}

export class AdaptRunner {
  private running: Promise<AdaptRunResult> | null = null;

  constructor(private readonly config: GearhearConfig, private readonly cli = fileURLToPath(new URL('../cli/main.js', import.meta.url))) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** Runs one adaptation; a second while one runs is a RequestError. */
  async run(terms: string[] | undefined): Promise<AdaptRunResult> {
    if (this.running) throw new RequestError('adapt: an adaptation is already running; ask again when it has answered');
    this.running = this.spawnAdapt(terms);
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private spawnAdapt(terms: string[] | undefined): Promise<AdaptRunResult> {
    const args = [this.cli, 'adapt', '--json', ...adaptSettings(this.config), ...(terms && terms.length > 0 ? ['--terms', terms.join(',')] : [])];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      if (child.pid !== undefined) {
        try {
          os.setPriority(child.pid, ADAPT_NICENESS);
        } catch { /* not permitted: it runs at the daemon's priority */ }
      }
      let out = '', err = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (err += d));
      child.on('error', reject);
      child.on('close', (code) => {
        const lines = out.split('\n').filter((l) => l.startsWith('{'));
        resolve({ exitCode: code, terms: lines.map((l) => JSON.parse(l) as AdaptTermAnswer), stderr: err.trim().split('\n').slice(-STDERR_TAIL).join('\n') });
      });
    });
  }
}
