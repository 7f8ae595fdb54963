import { FAULT_OFF, FAULT_ON } from './topics.js';

export type FaultState = typeof FAULT_ON | typeof FAULT_OFF;

/**
 * Per-category fault state: ON when a term of the category is heard, OFF after `quietMs`
 * without another. Calls `onChange` only when a state flips.
 */
export class FaultTracker {
  private readonly states = new Map<string, FaultState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly quietMs: number, private readonly onChange: (category: string, state: FaultState) => void) {
    if (!(quietMs > 0)) throw new Error(`fault quiet time must be a positive number of milliseconds, got ${quietMs}`);
  }

  /** Makes a category known (OFF) without a detection, so it can be announced and reset. */
  declare(category: string): void {
    if (!this.states.has(category)) this.states.set(category, FAULT_OFF);
  }

  heard(category: string): void {
    const previous = this.states.get(category);
    this.states.set(category, FAULT_ON);
    const old = this.timers.get(category);
    if (old) clearTimeout(old);
    const timer = setTimeout(() => {
      this.timers.delete(category);
      this.states.set(category, FAULT_OFF);
      this.onChange(category, FAULT_OFF);
    }, this.quietMs);
    timer.unref();
    this.timers.set(category, timer);
    if (previous !== FAULT_ON) this.onChange(category, FAULT_ON);
  }

  /** Every known category with its state (republished on each connect). */
  all(): Array<[string, FaultState]> {
    return [...this.states.entries()];
  }

  categories(): string[] {
    return [...this.states.keys()];
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Stops the timers and turns every fault OFF without calling `onChange`; returns the categories that were ON. */
  allOff(): string[] {
    this.stop();
    const wereOn = [...this.states].filter(([, state]) => state === FAULT_ON).map(([category]) => category);
    for (const category of wereOn) this.states.set(category, FAULT_OFF);
    return wereOn;
  }
}
