/**
 * The daemon's answers to `request/<action>` over MQTT (docs/mqtt.md, "Requests"): reload the
 * vocabulary, a health sample or the info payload on demand, and an in-process restart. Further
 * actions (evidence clips, feedback) register on the same router.
 */
import type { Logger } from '../log.js';
import type { LoadedVocabulary, ReloadOutcome, VocabularyWatcher } from '../kws/watch.js';
import { RequestRouter, type RequestResponse } from '../publish/requests.js';

export interface DeviceRequestDeps {
  /** Publishes a response; resolves once it is sent (see RequestRouterOptions.respond). */
  respond: (action: string, response: RequestResponse) => Promise<void> | void;
  logger: Logger;
  watcher: () => VocabularyWatcher | null;
  /** The vocabulary the listener uses now (a reloaded one it refused does not count). */
  vocabulary: () => LoadedVocabulary | null;
  /** A fresh health sample, published on `health` too; returns the payload as published. */
  health: () => Promise<Record<string, unknown>>;
  info: () => Record<string, unknown> | null;
  /** Stops the daemon and starts it again in the same process (config re-read). */
  restart: () => void;
  /** Refits the site heads (`gearhear adapt`) and swaps them in; absent: no `adapt` action. */
  adapt?: (params: Record<string, unknown>) => Promise<unknown>;
}

export interface ReloadAnswer {
  outcome: ReloadOutcome;
  version: string;
  terms: number;
}

/** Reloads the vocabulary; a failed or refused reload is an error naming why (the old vocabulary stays). */
export async function reloadVocabulary(deps: Pick<DeviceRequestDeps, 'watcher' | 'vocabulary'>): Promise<ReloadAnswer> {
  const watcher = deps.watcher();
  if (!watcher) throw new Error('the vocabulary watcher is not running');
  let failure: Error | null = null;
  const onError = (err: Error): void => { failure = err; };
  watcher.on('error', onError);
  let outcome: ReloadOutcome;
  try {
    outcome = await watcher.reload('mqtt request');
  } finally {
    watcher.off('error', onError);
  }
  const inUse = deps.vocabulary();
  if (outcome === 'failed') throw new Error((failure as Error | null)?.message ?? 'vocabulary reload failed; the previous vocabulary stays in use');
  if (outcome === 'reloaded' && inUse !== watcher.current) {
    throw new Error(`the reloaded vocabulary was refused by the listener; version ${inUse?.vocab.version ?? '?'} stays in use (see the error topic)`);
  }
  return { outcome, version: inUse?.vocab.version ?? '', terms: inUse?.specs.length ?? 0 };
}

export function buildDeviceRequests(deps: DeviceRequestDeps): RequestRouter {
  const router = new RequestRouter({ respond: deps.respond, logger: deps.logger });
  router.handle('reload', () => reloadVocabulary(deps));
  router.handle('health', () => deps.health());
  router.handle('info', () => {
    const info = deps.info();
    if (!info) throw new Error('info is not ready yet');
    return info;
  });
  if (deps.adapt) router.handle('adapt', deps.adapt);
  router.handle('restart', () => {
    // After the response has been handed to the connection, so the caller hears the answer first.
    setImmediate(() => deps.restart());
    return { restarting: true };
  });
  return router;
}
