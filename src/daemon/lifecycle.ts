import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';

/** Given to a part's start: listeners added through it are removed when the part stops. */
export type Listen = <T extends Record<keyof T, unknown[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>, event: K, listener: (...args: T[K]) => void,
) => void;

/** One part of the daemon (model, publisher, audio source, ...), as Zigbee2MQTT's extensions are. */
export interface Part {
  readonly name: string;
  start(listen: Listen): Promise<void> | void;
  /** Must cope with a start that failed half way: it is called for that part too. */
  stop?(): Promise<void> | void;
}

/**
 * Starts parts in order and stops them in reverse. A start failure propagates (after the part is
 * registered, so stopAll releases what it had begun); a stop failure is logged and the next part
 * still stops. After its stop, every listener the part added through `listen` is removed.
 */
export class Lifecycle {
  private readonly started: Array<{ part: Part; unlisten: Array<() => void> }> = [];
  private stopped = false;

  constructor(private readonly logger: Logger) {}

  async start(part: Part): Promise<void> {
    if (this.stopped) throw new Error(`cannot start ${part.name}: stopping`);
    const entry = { part, unlisten: [] as Array<() => void> };
    this.started.push(entry);
    const listen: Listen = (emitter, event, listener) => {
      // Node's typings cannot relate a generic event map to its listener type; the signature above does.
      const plain = emitter as unknown as { on(e: string, l: (...a: unknown[]) => void): void; off(e: string, l: (...a: unknown[]) => void): void };
      const fn = listener as (...a: unknown[]) => void;
      plain.on(event, fn);
      entry.unlisten.push(() => plain.off(event, fn));
    };
    await part.start(listen);
  }

  /** Stops every started part, last first; resolves with the names of those whose stop failed. Never throws. */
  async stopAll(): Promise<string[]> {
    this.stopped = true;
    const failed: string[] = [];
    while (this.started.length > 0) {
      const { part, unlisten } = this.started.pop()!;
      try {
        await part.stop?.();
      } catch (err) {
        failed.push(part.name);
        this.logger.error(`stopping ${part.name} failed; stopping the rest`, { part: part.name, error: (err as Error)?.message ?? String(err) });
      }
      for (const off of unlisten) off();
    }
    return failed;
  }

  /** Names of the started parts, in start order. */
  get parts(): string[] {
    return this.started.map((e) => e.part.name);
  }
}
