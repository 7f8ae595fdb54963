import type { EventEmitter } from 'node:events';

/**
 * Emits 'error' only when someone listens: an 'error' nobody hears would throw and end the
 * process. Returns whether it was heard, so the caller can log what nobody else will see.
 */
export function emitErrorIfHeard(emitter: EventEmitter, error: Error): boolean {
  if (emitter.listenerCount('error') === 0) return false;
  emitter.emit('error', error);
  return true;
}
