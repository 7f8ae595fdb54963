import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { createAudioSource } from '../audio/index.js';
import { AudioFeed } from '../audio/feed.js';
import { blockLevelDbfs } from '../audio/level.js';
import type { AudioChunk, AudioSource, AudioSourceError, AudioSourceEvents } from '../audio/types.js';
import type { GearhearConfig } from '../config/types.js';
import { printableConfig } from '../config/index.js';
import { HealthMonitor, MemoryBudget, SystemdNotifier, percentile, type HealthSample, type MemoryTransition } from '../health/index.js';
import { VocabularyWatcher, type LoadedVocabulary } from '../kws/watch.js';
import type { Logger } from '../log.js';
import { loadPhoneModel } from '../model/phone-model.js';
import type { AcousticModel } from '../model/types.js';
import { SpeechEmbedding } from '../model/speech-embedding.js';
import { TermHeads } from '../model/term-heads.js';
import { compiledHeadsPathFor, loadCompiledHeads } from '../kws/compiled-heads.js';
import { loadSiteHeads, siteHeadsPath } from '../enrol/site-heads.js';
import { MqttPublisher } from '../publish/publisher.js';
import { describeUndelivered } from '../publish/outbox.js';
import { createGate } from '../vad/index.js';
import type { Gate } from '../vad/types.js';
import { Evidence } from '../evidence/evidence.js';
import { buildDeviceRequests } from './device-requests.js';
import { AdaptRunner, adaptTerms } from './adapt-request.js';
import { RequestError } from '../publish/requests.js';

/** `gearhear adapt`'s exit when a term was refused (sysexits EX_DATAERR); the others were written. */
const EX_DATAERR = 65;
import { Lifecycle, type Listen } from './lifecycle.js';
import { Listener, type HeardDetection } from './listener.js';
import { audioSourceOptions, audioSourceSpec, evidenceOptions, gateOptions, embeddingOptions, headsOptions, keywordDefaults, phoneModelOptions, publisherOptions, searchOptions } from './wiring.js';
import { calibrationFor, type CalibrationInUse } from '../calibration/in-use.js';
import { HISTORY_WRITE_MS, ScoreHistory } from '../calibration/history.js';
import { calibrationFileFor, calibrationIdentity, detectorIdentity } from '../calibration/file.js';
import { SAMPLE_RATE } from '../audio/types.js';

export interface DaemonOptions {
  config: GearhearConfig;
  logger: Logger;
  version: string;
  /** Injected for tests; default a real SystemdNotifier. */
  notifier?: SystemdNotifier;
  /** Called once the broker connection is set up, before audio starts (the demo subscribes here). */
  beforeListening?: (daemon: Daemon) => Promise<void>;
}

/**
 * Exit codes: 0 clean; 1 a fatal fault (systemd restarts us); 75 outbox not drained in time;
 * 78 (EX_CONFIG) a setup fault restarting cannot fix, e.g. a state directory that is not writable.
 */
export const EXIT_DRAIN_TIMEOUT = 75;
/** `finished` resolves with this after `request/restart`: `gearhear run` starts a fresh daemon in the same process. */
export const EXIT_RESTART = 3;

/**
 * The exit code for an error that stopped the start: its own `exitCode` (78 for a setup fault, e.g.
 * an unwritable state directory), else `otherwise` (the CLI passes its mapping of error types).
 */
export function startFailureExitCode(err: unknown, otherwise = 1): number {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 256 ? code : otherwise;
}

/** `<state.dir>/heartbeat.json`, rewritten every HEARTBEAT_MS: what `gearhear doctor --quick` checks. */
export const HEARTBEAT_FILE = 'heartbeat.json';
export const HEARTBEAT_MS = 10_000;

export interface Heartbeat {
  pid: number;
  time: string;
  /** When the last audio frame arrived (null before the first). */
  lastAudioAt: string | null;
  source: string | null;
}

/**
 * Wires the stages together: audio source -> listener (VAD, model, keyword search) -> MQTT
 * publisher, with the vocabulary watcher, health monitor, memory budget and systemd notifier.
 * Each is a part of one Lifecycle: started in order, stopped in reverse, a failed stop logged
 * and the next still stopped, each part's listeners removed. `finished` resolves with the exit code.
 */
export class Daemon {
  private model: AcousticModel | null = null;
  private embedding: SpeechEmbedding | null = null;
  private heads: TermHeads | null = null;
  /** The heads with the vocabulary's compiled ones (`vocab compile`), as the listener uses them. */
  private headsInUse: TermHeads | null = null;
  /** The site heads (`gearhear adapt`) inside headsInUse, for info. */
  private siteHeads: { file: string; sha256: string; terms: string[] } | null = null;
  private adaptRunner: AdaptRunner | null = null;
  private gate: Gate | null = null;
  private watcher: VocabularyWatcher | null = null;
  private listener: Listener | null = null;
  private publisher: MqttPublisher | null = null;
  private evidence: Evidence | null = null;
  private source: AudioSource | null = null;
  private feed: AudioFeed | null = null;
  private health: HealthMonitor | null = null;
  private memory: MemoryBudget | null = null;
  private readonly notifier: SystemdNotifier;
  private vocabulary: LoadedVocabulary | null = null;
  private calibration: CalibrationInUse | null = null;
  private history: ScoreHistory | null = null;
  private historyTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly lifecycle: Lifecycle;
  private stopping: Promise<number> | null = null;
  private stopCode = 0;
  private resolveFinished!: (code: number) => void;
  private lastLevelDbfs: number | null = null;
  private detections = 0;
  private shed = false;
  private lastAudioAt: Date | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatWrite: Promise<void> = Promise.resolve();
  readonly finished: Promise<number>;

  constructor(private readonly opts: DaemonOptions) {
    this.notifier = opts.notifier ?? new SystemdNotifier({ logger: opts.logger });
    this.lifecycle = new Lifecycle(opts.logger);
    this.finished = new Promise((resolve) => { this.resolveFinished = resolve; });
  }

  /** Starts every part in order; on a failure the caller stops the daemon, which releases what had started. */
  async start(): Promise<void> {
    const { config: c, logger } = this.opts;
    const parts = this.lifecycle;
    // The watchdog keeps running until everything else has stopped.
    await parts.start({ name: 'systemd watchdog', start: () => undefined, stop: () => this.notifier.stop() });
    // model.detector = heads: the speech embedding, then the phone model (which shares it when it is
    // Google's and model.phones = embedding), then the term heads that stand on it (disposed in reverse).
    const heads = c.model.detector === 'heads' ? headsOptions(c) : null;
    await parts.start({
      name: 'speech embedding',
      start: async () => {
        if (heads) this.embedding = await SpeechEmbedding.load(await embeddingOptions(heads));
      },
      stop: () => this.embedding?.dispose(),
    });
    await parts.start({
      name: 'model',
      start: async () => {
        const { model, about } = await loadPhoneModel(phoneModelOptions(c, this.embedding ?? undefined));
        this.model = model;
        logger.info('model loaded', { id: model.id, version: model.version, ...about });
      },
      stop: () => this.model?.dispose(),
    });
    await parts.start({
      name: 'term heads',
      start: async () => {
        if (!heads) return;
        this.heads = await TermHeads.load(heads.dir, heads.intraOpThreads);
        logger.info('term heads loaded', { id: this.heads.manifest.id, version: this.heads.manifest.version, terms: this.heads.manifest.terms.length });
      },
      stop: () => this.heads?.dispose(),
    });
    await parts.start({
      name: 'vocabulary',
      start: async () => {
        this.watcher = new VocabularyWatcher({ vocabPath: c.vocab.file, defaults: keywordDefaults(c), logger });
        this.vocabulary = await this.watcher.start();
        if (this.heads) {
          this.headsInUse = await this.withSiteHeads(this.heads.withCompiled(await loadCompiledHeads(c.vocab.file, this.heads, c.model.embedding)));
          if (this.headsInUse.compiledTerms > 0) logger.info('compiled term heads loaded', { file: compiledHeadsPathFor(c.vocab.file), terms: this.headsInUse.compiledTerms });
        }
      },
      stop: () => this.watcher?.stop(),
    });
    // Site calibration (per-term thresholds) and the score history: after the model and vocabulary they
    // are checked against; the history is written last, after the listener's final segment.
    await parts.start({
      name: 'calibration',
      start: async () => {
        this.calibration = await this.loadCalibration(this.vocabulary!);
        if (!c.calibration.history) return;
        this.history = await ScoreHistory.open(c.state.dir, detectorIdentity(this.model!, this.headsInUse, this.embedding, headsOptions(c).patienceHops).sha256, this.vocabulary!.specs);
        this.historyTimer = setInterval(() => void this.writeHistory(), HISTORY_WRITE_MS);
        this.historyTimer.unref();
      },
      stop: async () => {
        if (this.historyTimer) clearInterval(this.historyTimer);
        this.historyTimer = null;
        await this.writeHistory();
      },
    });
    await parts.start({
      name: 'vad',
      start: async () => {
        this.gate = await createGate(gateOptions(c, logger));
      },
      stop: () => this.gate?.dispose(),
    });
    // Evidence opens before the publisher serves its requests; it closes after the publisher stops,
    // writing the clips still waiting for audio.
    await parts.start({
      name: 'evidence',
      start: async () => {
        if (c.evidence.enabled) this.evidence = await Evidence.open(evidenceOptions(c, logger));
      },
      stop: () => this.evidence?.close(),
    });
    await parts.start({ name: 'publisher', start: (listen) => this.startPublisher(listen), stop: () => this.publisher?.stop() });
    await parts.start({ name: 'listener', start: (listen) => this.startListener(listen), stop: () => this.finishListening() });
    await parts.start({ name: 'health', start: (listen) => this.startHealth(listen), stop: () => this.health?.stop() });
    await parts.start({ name: 'memory budget', start: (listen) => this.startMemoryBudget(listen), stop: () => this.memory?.stop() });
    await this.opts.beforeListening?.(this);
    await parts.start({ name: 'audio source', start: (listen) => this.startSource(listen), stop: async () => { await this.source?.stop(); this.feed?.detach(); } });
    await parts.start({
      name: 'systemd',
      start: async () => {
        await this.notifier.ready(`listening on ${this.source!.description}`);
        this.notifier.start();
      },
      stop: async () => { await this.notifier.stopping(); },
    });
    await parts.start({
      name: 'heartbeat',
      start: async () => {
        await this.writeHeartbeat();
        this.heartbeatTimer = setInterval(() => void this.writeHeartbeat(), HEARTBEAT_MS);
        this.heartbeatTimer.unref();
      },
      stop: async () => {
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = null;
        await this.heartbeatWrite;
      },
    });
  }

  /** The site calibration beside the vocabulary (calibration.file), checked against model and vocabulary. */
  private async loadCalibration(v: LoadedVocabulary): Promise<CalibrationInUse> {
    const { config: c, logger } = this.opts;
    const file = calibrationFileFor(c);
    const inUse = await calibrationFor(file, calibrationIdentity([this.model!, this.headsInUse, this.embedding, headsOptions(c).patienceHops], v.vocab, c.kws.boost));
    if (inUse.error) logger.error('calibration refused; the vocabulary\'s thresholds apply', { file, error: inUse.error.message });
    else if (!inUse.status.used && inUse.status.problem) logger.info('the factory calibration is not for these detectors; the vocabulary\'s thresholds apply', { file, problem: inUse.status.problem });
    else if (inUse.status.used) {
      const { terms, source, uncalibrated } = inUse.status;
      logger.info('calibration loaded', { file, terms, source });
      if (uncalibrated.length > 0) logger.warn(`calibration has no threshold for ${uncalibrated.length} term(s) added or changed since it was made; they use the vocabulary's thresholds until \`gearhear calibrate\` runs again`, { file, uncalibrated });
    }
    return inUse;
  }

  private async writeHistory(): Promise<void> {
    try {
      await this.history?.write();
    } catch (err) {
      this.opts.logger.warn('cannot write the score history', { error: (err as Error).message });
    }
  }

  /** Writes are queued, one at a time, so two never share the temp file. */
  private writeHeartbeat(): Promise<void> {
    this.heartbeatWrite = this.heartbeatWrite.then(() => this.writeHeartbeatNow());
    return this.heartbeatWrite;
  }

  private async writeHeartbeatNow(): Promise<void> {
    const beat: Heartbeat = {
      pid: process.pid, time: new Date().toISOString(), lastAudioAt: this.lastAudioAt?.toISOString() ?? null,
      source: this.source?.description ?? null,
    };
    const file = path.join(this.opts.config.state.dir, HEARTBEAT_FILE);
    try {
      await writeFile(`${file}.tmp`, JSON.stringify(beat) + '\n');
      await rename(`${file}.tmp`, file);
    } catch (err) {
      this.opts.logger.warn('cannot write heartbeat', { file, error: (err as Error).message });
    }
  }

  private async startPublisher(listen: Listen): Promise<void> {
    const { config: c, logger } = this.opts;
    this.publisher = new MqttPublisher(publisherOptions(c, logger));
    if (this.evidence) this.publisher.offerFeedbackButtons();
    if (c.model.detector === 'heads') this.publisher.offerAdaptButton();
    const requests = this.buildRequests();
    this.evidence?.serve(requests, () => this.vocabulary?.specs.map((k) => k.term) ?? []);
    this.publisher.serveRequests(requests);
    listen(this.publisher, 'connected', () => logger.info('mqtt connected'));
    await this.publisher.start();
    if (this.calibration?.error) this.publisher.publishError('calibration', this.calibration.error);
    this.publishInfo();
  }

  private startListener(listen: Listen): void {
    const { config: c, logger } = this.opts;
    const h = headsOptions(c);
    this.listener = new Listener({
      gate: this.gate!, model: this.model!, keywords: this.vocabulary!.specs, logger,
      searchOptions: searchOptions(c),
      heads: this.headsInUse && this.embedding ? { embedding: this.embedding, heads: this.headsInUse, scorePivot: h.scorePivot, patienceHops: h.patienceHops } : undefined,
      thresholds: this.calibration?.thresholds ?? undefined, scores: this.history ?? undefined,
    });
    listen(this.listener, 'detection', (d: HeardDetection) => this.onDetection(d));
    listen(this.watcher!, 'reload', (loaded: LoadedVocabulary) => this.track(this.onVocabulary(loaded)));
    listen(this.watcher!, 'error', (err: Error) => this.publisher?.publishError('vocabulary', err));
  }

  /** Lets chunks in progress finish, then the last segment (not after a fatal fault), so its detections reach the outbox. */
  private async finishListening(): Promise<void> {
    await this.settle();
    if (this.listener && this.stopCode !== 1) {
      await this.listener.flush().catch((err: unknown) => {
        this.opts.logger.error('could not finish the last segment at stop', { error: (err as Error).message });
      });
    }
    await this.settle();
  }

  /** The model that detects `term`: its term head's, or the phone model's. */
  private modelOf(term: string): { id: string; version: string } {
    const h = this.headsInUse?.manifest;
    if (h && this.headsInUse!.termIndex.has(term)) return { id: h.id, version: h.version };
    return { id: this.model!.id, version: this.model!.version };
  }

  private buildRequests(): ReturnType<typeof buildDeviceRequests> {
    return buildDeviceRequests({
      respond: (action, response) => this.publisher?.respond(action, response),
      logger: this.opts.logger,
      watcher: () => this.watcher,
      vocabulary: () => this.vocabulary,
      health: async () => {
        if (!this.health || !this.publisher) throw new Error('health is not running yet');
        return this.publisher.publishHealth({ ...(await this.health.sample()), ...this.evidence?.health() });
      },
      info: () => this.publisher?.currentInfo ?? null,
      restart: () => void this.stop('restart requested over MQTT', EXIT_RESTART),
      adapt: this.opts.config.model.detector === 'heads' ? (params) => this.adaptOverMqtt(params) : undefined,
    });
  }

  /**
   * request/adapt: `gearhear adapt` in a separate process, then the site heads reloaded (taking effect
   * at the next speech segment: no audio is dropped) and what changed.
   */
  private async adaptOverMqtt(params: Record<string, unknown>): Promise<unknown> {
    if (!this.heads) throw new RequestError('adapt: site heads are used with model.detector=heads; this daemon runs the phone model for every term');
    this.adaptRunner ??= new AdaptRunner(this.opts.config);
    const r = await this.adaptRunner.run(adaptTerms(params));
    if (r.terms.length === 0 || (r.exitCode !== 0 && r.exitCode !== EX_DATAERR)) throw new Error(`adapt (exit ${r.exitCode}): ${r.stderr || 'no term adapted'}`);
    const before = this.siteHeads?.sha256 ?? null;
    if (this.vocabulary) await this.onVocabulary(this.vocabulary);
    this.opts.logger.info('site heads adapted over MQTT', { accepted: r.terms.filter((t) => t.accepted).map((t) => t.term), refused: r.terms.filter((t) => !t.accepted).map((t) => t.term) });
    return { terms: r.terms, changed: (this.siteHeads?.sha256 ?? null) !== before, siteHeads: this.siteHeads };
  }

  /** The factory heads with the site's (`<state.dir>/site-heads.json`, from gearhear adapt), when there are any. */
  private async withSiteHeads(factory: TermHeads): Promise<TermHeads> {
    const c = this.opts.config;
    const { site, skipped, sha256 } = await loadSiteHeads(siteHeadsPath(c.state.dir), factory, c.model.embedding);
    if (skipped.length > 0) this.opts.logger.warn('site heads skipped: their factory head changed or is gone since gearhear adapt (run it again)', { terms: skipped });
    this.siteHeads = site.length > 0 && sha256 ? { file: siteHeadsPath(c.state.dir), sha256, terms: site.map((s) => s.term) } : null;
    if (this.siteHeads) this.opts.logger.info('site heads loaded (gearhear adapt)', { file: this.siteHeads.file, terms: this.siteHeads.terms });
    return site.length > 0 ? factory.withSite(site) : factory;
  }

  private publishInfo(): void {
    const v = this.vocabulary!;
    this.publisher!.setInfo({
      version: this.opts.version,
      model: { id: this.model!.id, version: this.model!.version, sha256: this.model!.sha256 },
      ...(this.heads ? { heads: {
        id: this.heads.manifest.id, version: this.heads.manifest.version, sha256: this.heads.manifest.sha256,
        terms: this.heads.manifest.terms.length, covered: v.vocab.terms.filter((t) => this.headsInUse?.termIndex.has(t.term)).length,
        compiled: this.headsInUse?.compiledTerms ?? 0, ...(this.siteHeads ? { site: this.siteHeads } : {}),
      } } : {}),
      vocabulary: { version: v.vocab.version, terms: v.vocab.terms.map((t) => ({ term: t.term, category: t.category, severity: t.severity })) },
      config: JSON.parse(printableConfig(this.opts.config)) as Record<string, unknown>,
      ...(this.calibration ? { calibration: { ...this.calibration.status } } : {}),
    });
  }

  private startHealth(listen: Listen): void {
    const { config: c, logger } = this.opts;
    this.health = new HealthMonitor({ intervalMs: c.health.intervalS * 1000, logger });
    this.health.registerProvider('audio', () => ({ levelDbfs: this.lastLevelDbfs, source: this.source?.description ?? null, ...this.feed?.stats() }));
    this.health.registerProvider('vad', () => {
      const s = this.gate!.stats();
      return { dutyCycle: s.samplesIn ? s.samplesGated / s.samplesIn : 0, segments: s.segments };
    });
    this.health.registerProvider('model', () => {
      const t = this.listener!.stats();
      return { realTimeFactor: t.audioSec ? (t.vadSec + t.modelSec + t.searchSec) / t.audioSec : 0, modelRealTimeFactor: t.speechSec ? t.modelSec / t.speechSec : 0, inferenceP95Ms: percentile(t.recentInferenceMs, 95), shedding: this.shed ? 1 : 0 };
    });
    this.health.registerProvider('detections', () => ({ total: this.detections }));
    listen(this.health, 'sample', (s: HealthSample) => this.publisher?.publishHealth({ ...s, ...this.evidence?.health() }));
    void this.health.start().catch((err: unknown) => logger.warn('health sample failed', { error: (err as Error).message }));
  }

  private startMemoryBudget(listen: Listen): void {
    const { config: c, logger } = this.opts;
    this.memory = new MemoryBudget({ budgetMb: c.health.memoryBudgetMb });
    listen(this.memory, 'change', (t: MemoryTransition) => {
      logger.warn('memory budget', { ...t });
      this.shed = t.to === 'shed' || t.to === 'exceeded';
      if (t.to === 'exceeded') {
        this.publisher?.publishError('memory', new Error(`resident memory ${t.rssMb} MB is over the ${t.budgetMb} MB budget; exiting for a clean restart`));
        void this.stop('memory budget exceeded', 1);
      }
    });
    this.memory.start(5000);
  }

  private async startSource(listen: Listen): Promise<void> {
    const { config: c, logger } = this.opts;
    this.source = createAudioSource(audioSourceSpec(c), audioSourceOptions(c, logger));
    // Bounded backlog between source and listener: a file or stdin is paused, a mic's excess dropped and counted.
    this.feed = new AudioFeed(this.source, (chunk) => this.onAudio(chunk), { logger });
    listen(this.source, 'status', (s: AudioSourceEvents['status'][0]) => {
      logger.info('audio source', { state: s.state, detail: s.detail });
      // A stall is published (nothing else says it); a restart follows an error or a stall already published.
      if (s.state === 'stalled') this.publisher?.publishError('audio', new Error(`${this.source?.description}: stalled${s.detail ? ` (${s.detail})` : ''}`));
    });
    listen(this.source, 'error', (err: AudioSourceError) => {
      logger.error('audio source error', { error: err.message, fatal: err.fatal });
      this.publisher?.publishError('audio', err);
      if (err.fatal) void this.stop(`audio source failed: ${err.message}`, 1);
    });
    listen(this.source, 'end', () => void this.finishInput());
    await this.source.start();
    logger.info('listening', { source: this.source.description });
  }

  private onAudio(chunk: AudioChunk): Promise<void> {
    this.notifier.frameSeen();
    const first = this.lastAudioAt === null;
    this.lastAudioAt = new Date();
    this.history?.addAudio(chunk.samples.length / SAMPLE_RATE);
    if (first && this.heartbeatTimer) void this.writeHeartbeat();
    this.lastLevelDbfs = Math.round(blockLevelDbfs(chunk.samples) * 10) / 10;
    this.evidence?.audio(chunk);
    const handled = this.listener!.push(chunk).catch((err: unknown) => {
      this.opts.logger.error('listening path failed on a chunk', { error: (err as Error).message });
      this.publisher?.publishError('listener', err);
    });
    this.track(handled);
    return handled;
  }

  private onDetection(d: HeardDetection): void {
    this.detections++;
    this.opts.logger.info('detection', { term: d.term, category: d.category, confidence: d.confidence, start: d.start, end: d.end });
    const v = this.vocabulary!;
    const model = this.modelOf(d.term);
    const timestamp = new Date();
    const clip = this.evidence?.capture({ ...d, timestamp, model, vocabularyVersion: v.vocab.version });
    this.track(this.publisher!.publishDetection({
      ...d, model, vocabularyVersion: v.vocab.version, timestamp, ...(clip ? { id: clip.id, clipId: clip.clipId } : {}),
    }).catch((err: unknown) => {
      this.opts.logger.error('could not store a detection in the outbox', { term: d.term, error: (err as Error).message });
      this.publisher?.publishError('outbox', err);
    }));
  }

  private async onVocabulary(loaded: LoadedVocabulary): Promise<void> {
    if (this.heads) {
      try {
        this.headsInUse = await this.withSiteHeads(this.heads.withCompiled(await loadCompiledHeads(this.opts.config.vocab.file, this.heads, this.opts.config.model.embedding)));
      } catch (err) {
        this.opts.logger.error('compiled term heads refused; keeping the previous ones', { error: (err as Error).message });
        this.publisher?.publishError('vocabulary', err);
      }
    }
    const calibration = await this.loadCalibration(loaded);
    if (calibration.error) this.publisher?.publishError('calibration', calibration.error);
    try {
      this.listener!.setKeywords(loaded.specs, calibration.thresholds, this.headsInUse ?? undefined);
      this.calibration = calibration;
      this.history?.setTerms(loaded.specs);
      this.vocabulary = loaded;
      this.publishInfo();
      this.opts.logger.info('vocabulary reloaded', { terms: loaded.specs.length, version: loaded.vocab.version });
    } catch (err) {
      this.opts.logger.error('new vocabulary refused; keeping the previous one', { error: (err as Error).message });
      this.publisher?.publishError('vocabulary', err);
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** A file or stdin source ended: finish the last segment, wait for the broker to take everything, publish a last health sample, exit. */
  private async finishInput(): Promise<void> {
    await this.finishListening();
    const drained = await this.publisher!.drain(this.opts.config.mqtt.drainTimeoutMs);
    if (!drained) {
      const outbox = this.publisher!.stats().outbox;
      this.opts.logger.error(`gave up waiting for the broker to acknowledge every detection; ${describeUndelivered(outbox)}`, {
        depth: outbox.depth, inMemory: outbox.inMemory, drainTimeoutMs: this.opts.config.mqtt.drainTimeoutMs,
      });
    }
    // The last health sample counts everything the input gave (the periodic one may be from its start).
    await this.health?.final();
    await this.stop('input ended', drained ? 0 : EXIT_DRAIN_TIMEOUT);
  }

  /**
   * Stops every part in reverse order: capture first, then the last segment into the outbox, then
   * `offline` and the outbox, then the evidence clips still waiting for audio, then the term heads,
   * the speech embedding and the model. Never rejects; a part that fails to stop is logged.
   */
  stop(reason: string, code = 0): Promise<number> {
    if (this.stopping) return this.stopping;
    this.stopCode = code;
    this.stopping = (async () => {
      this.opts.logger.info('stopping', { reason });
      const failed = await this.lifecycle.stopAll();
      if (failed.length > 0) this.opts.logger.error('stopped, but some parts failed to stop', { parts: failed });
      this.resolveFinished(code);
      return code;
    })();
    return this.stopping;
  }

  get embeddedBrokerUrl(): string | null {
    return this.publisher?.embeddedUrl ?? null;
  }

  get embeddedBrokerCredentials(): { username: string; password: string } | null {
    return this.publisher?.embeddedCredentials ?? null;
  }
}
