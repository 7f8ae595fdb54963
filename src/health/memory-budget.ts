/**
 * MemoryBudget: compares the process's resident memory with a budget (health.memoryBudgetMb).
 *   ok < 80% <= warn < 90% <= shed <= 100% < exceeded
 * 'shed': the daemon drops optional work; 'exceeded': it exits for a clean restart by its supervisor.
 * Going back down needs the ratio to fall a margin below the threshold, so the state does not flap.
 */
import { EventEmitter } from 'node:events';

export type MemoryState = 'ok' | 'warn' | 'shed' | 'exceeded';

export interface MemoryTransition {
  from: MemoryState;
  to: MemoryState;
  rssMb: number;
  budgetMb: number;
  /** rss / budget. */
  ratio: number;
}

export interface MemoryBudgetOptions {
  budgetMb: number;
  /** Default: process.memoryUsage.rss(). Tests pass their own. */
  readRssBytes?: () => number;
  /** Default 0.8. */
  warnRatio?: number;
  /** Default 0.9. */
  shedRatio?: number;
  /** How far below a threshold the ratio must fall to leave that state. Default 0.05. */
  recoverMargin?: number;
}

export interface MemoryBudgetEvents {
  change: [MemoryTransition];
}

const RANK: Record<MemoryState, number> = { ok: 0, warn: 1, shed: 2, exceeded: 3 };
const MB = 1024 * 1024;

export class MemoryBudget extends EventEmitter<MemoryBudgetEvents> {
  private current: MemoryState = 'ok';
  private timer: NodeJS.Timeout | null = null;
  private readonly readRssBytes: () => number;
  private readonly warnRatio: number;
  private readonly shedRatio: number;
  private readonly recoverMargin: number;

  constructor(private readonly options: MemoryBudgetOptions) {
    super();
    if (!(options.budgetMb > 0)) throw new RangeError(`memory budget must be above 0 MB, got ${options.budgetMb}`);
    this.readRssBytes = options.readRssBytes ?? (() => process.memoryUsage.rss());
    this.warnRatio = options.warnRatio ?? 0.8;
    this.shedRatio = options.shedRatio ?? 0.9;
    this.recoverMargin = options.recoverMargin ?? 0.05;
    if (!(this.warnRatio < this.shedRatio && this.shedRatio <= 1)) throw new RangeError('memory budget ratios must satisfy warn < shed <= 1');
  }

  get state(): MemoryState {
    return this.current;
  }

  get budgetMb(): number {
    return this.options.budgetMb;
  }

  private stateFor(ratio: number): MemoryState {
    if (ratio > 1) return 'exceeded';
    if (ratio >= this.shedRatio) return 'shed';
    if (ratio >= this.warnRatio) return 'warn';
    return 'ok';
  }

  /** Reads RSS now, updates the state and emits 'change' when it moved. Returns the state. */
  check(): MemoryState {
    const rssBytes = this.readRssBytes();
    const ratio = rssBytes / (this.options.budgetMb * MB);
    const raw = this.stateFor(ratio);
    let next = raw;
    if (RANK[raw] < RANK[this.current]) {
      // Falling: only as far as the ratio is clear of the thresholds by the margin.
      const held = this.stateFor(ratio + this.recoverMargin);
      next = RANK[held] < RANK[this.current] ? held : this.current;
    }
    if (next !== this.current) {
      const transition: MemoryTransition = { from: this.current, to: next, rssMb: Math.round((rssBytes / MB) * 10) / 10, budgetMb: this.options.budgetMb, ratio: Math.round(ratio * 1000) / 1000 };
      this.current = next;
      this.emit('change', transition);
    }
    return this.current;
  }

  /** Checks every intervalMs (the daemon may instead call check() from its health tick). */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
    this.check();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
