/**
 * Reloads the vocabulary (and its lexicon) while the daemon runs: on a signal (SIGHUP by default),
 * on `reload()`, and when either file changes. A failed reload keeps the previous vocabulary.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { emitErrorIfHeard } from '../events.js';
import { compiledHeadsPathFor } from './compiled-heads.js';
import { lexiconPathFor, type ResolveDefaults } from './lexicon.js';
import { loadKeywords, type LoadedKeywords } from './load.js';

/** Editors save in bursts (truncate, write, rename); one reload after the burst settles. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 250;

export interface VocabularyWatcherOptions {
  vocabPath: string;
  /** Threshold and boost for terms that set none. */
  defaults: ResolveDefaults;
  /** Reload when the process gets this signal; null = no signal handler (default 'SIGHUP'). */
  signal?: NodeJS.Signals | null;
  /** Watch the files for changes (default true). */
  watchFiles?: boolean;
  debounceMs?: number;
  logger?: Logger;
}

export type LoadedVocabulary = LoadedKeywords;

export type ReloadOutcome = 'reloaded' | 'unchanged' | 'failed';

export interface VocabularyWatcherEvents {
  /** A changed vocabulary was loaded and resolved; `specs` replaces the previous ones. */
  reload: [LoadedVocabulary];
  /** A reload failed; the previous vocabulary stays in use. */
  error: [Error];
}

function loadAll(vocabPath: string, defaults: ResolveDefaults): Promise<LoadedVocabulary> {
  return loadKeywords(vocabPath, { defaults });
}

/** The keywords and the bytes of the compiled heads beside them (a new `vocab compile` is a change too). */
async function fingerprint(loaded: LoadedVocabulary, vocabPath: string): Promise<string> {
  const h = createHash('sha256').update(JSON.stringify(loaded.specs));
  try {
    h.update(await readFile(compiledHeadsPathFor(vocabPath)));
  } catch {
    h.update('no compiled heads');
  }
  return h.digest('hex');
}

export class VocabularyWatcher extends EventEmitter<VocabularyWatcherEvents> {
  private readonly logger: Logger;
  private readonly watchedNames: Set<string>;
  private watchers: FSWatcher[] = [];
  private debounceTimer: NodeJS.Timeout | null = null;
  private loaded: LoadedVocabulary | null = null;
  private loadedFingerprint = '';
  private queue: Promise<unknown> = Promise.resolve();
  private running = false;
  private readonly onSignal = (): void => void this.reload('signal');

  constructor(private readonly options: VocabularyWatcherOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.watchedNames = new Set([options.vocabPath, lexiconPathFor(options.vocabPath), compiledHeadsPathFor(options.vocabPath)].map((f) => path.basename(f)));
  }

  /** The vocabulary in use (null before start). */
  get current(): LoadedVocabulary | null {
    return this.loaded;
  }

  /** Loads the vocabulary (throws if it cannot: there is nothing to fall back to), then watches. */
  async start(): Promise<LoadedVocabulary> {
    if (this.running && this.loaded) return this.loaded;
    const loaded = await loadAll(this.options.vocabPath, this.options.defaults);
    this.loaded = loaded;
    this.loadedFingerprint = await fingerprint(loaded, this.options.vocabPath);
    this.running = true;
    if (this.options.watchFiles ?? true) this.watchDirectories();
    if (this.options.signal !== null) process.on(this.options.signal ?? 'SIGHUP', this.onSignal);
    this.logger.info('vocabulary loaded', { file: this.options.vocabPath, version: loaded.vocab.version, terms: loaded.specs.length });
    return loaded;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.options.signal !== null) process.off(this.options.signal ?? 'SIGHUP', this.onSignal);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = null;
    await this.queue;
  }

  /** Reloads now (reloads are serialised). Failures are emitted as 'error', never thrown. */
  reload(reason = 'manual'): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.reloadNow(reason));
    this.queue = next;
    return next;
  }

  private async reloadNow(reason: string): Promise<ReloadOutcome> {
    if (!this.running) return 'unchanged';
    let loaded: LoadedVocabulary;
    try {
      loaded = await loadAll(this.options.vocabPath, this.options.defaults);
    } catch (err) {
      if (!this.running) return 'failed';
      const error = new Error(`vocabulary reload (${reason}) failed, keeping version ${this.loaded?.vocab.version}: ${(err as Error).message}`, { cause: err });
      this.report(error);
      return 'failed';
    }
    if (!this.running) return 'unchanged';
    const print = await fingerprint(loaded, this.options.vocabPath);
    if (print === this.loadedFingerprint) {
      this.logger.debug('vocabulary unchanged', { reason, version: loaded.vocab.version });
      return 'unchanged';
    }
    this.loaded = loaded;
    this.loadedFingerprint = print;
    for (const warning of loaded.vocab.warnings) this.logger.warn(warning);
    this.logger.info('vocabulary reloaded', { reason, version: loaded.vocab.version, terms: loaded.specs.length });
    this.emit('reload', loaded);
    return 'reloaded';
  }

  /** Watches directories, not files: a rename-replace save leaves a file watcher on the dead inode. */
  private watchDirectories(): void {
    const dirs = new Set([path.dirname(this.options.vocabPath), path.dirname(lexiconPathFor(this.options.vocabPath))]);
    for (const dir of dirs) {
      const watcher = watch(dir, (_event, filename) => {
        if (filename === null || this.watchedNames.has(path.basename(filename.toString()))) this.scheduleReload();
      });
      watcher.on('error', (err) => {
        const error = new Error(`cannot watch ${dir} for vocabulary changes: ${err.message}; reload with ${this.options.signal ?? 'SIGHUP'}`, { cause: err });
        this.report(error);
      });
      this.watchers.push(watcher);
    }
  }

  /** Always logged (an operator reads the journal, not only MQTT), then emitted to 'error' listeners if any. */
  private report(error: Error): void {
    this.logger.error(error.message, { file: this.options.vocabPath });
    emitErrorIfHeard(this, error);
  }

  private scheduleReload(): void {
    if (!this.running) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.reload('file change');
    }, this.options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS);
  }
}
