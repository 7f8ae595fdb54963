import { writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { createAudioSource } from '../audio/index.js';
import type { AudioChunk, AudioSource } from '../audio/types.js';
import type { GearhearConfig } from '../config/types.js';
import { printableConfig } from '../config/index.js';
import { HealthMonitor, MemoryBudget, SystemdNotifier, percentile } from '../health/index.js';
import { VocabularyWatcher, type LoadedVocabulary } from '../kws/watch.js';
import type { Logger } from '../log.js';
import { OnnxAcousticModel } from '../model/onnx-model.js';
import { MqttPublisher } from '../publish/publisher.js';
import { createGate } from '../vad/index.js';
import type { Gate } from '../vad/types.js';
import { Listener, type HeardDetection } from './listener.js';
import { calibrationFor, type CalibrationInUse } from '../calibration/in-use.js';
import { HISTORY_WRITE_MS, ScoreHistory } from '../calibration/history.js';
import { calibrationPathFor } from '../calibration/file.js';
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

/** Exit codes: 0 clean; 1 a fatal fault (systemd restarts us); 75 outbox not drained in time. */
export const EXIT_DRAIN_TIMEOUT = 75;

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
 * Modules start in order and stop in reverse; `finished` resolves with the exit code.
 */
export class Daemon {
  private model: OnnxAcousticModel | null = null;
  private gate: Gate | null = null;
  private watcher: VocabularyWatcher | null = null;
  private listener: Listener | null = null;
  private publisher: MqttPublisher | null = null;
  private source: AudioSource | null = null;
  private health: HealthMonitor | null = null;
  private memory: MemoryBudget | null = null;
  private readonly notifier: SystemdNotifier;
  private vocabulary: LoadedVocabulary | null = null;
  private calibration: CalibrationInUse | null = null;
  private history: ScoreHistory | null = null;
  private historyTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<void>>();
  private stopping: Promise<number> | null = null;
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
    this.finished = new Promise((resolve) => { this.resolveFinished = resolve; });
  }

  async start(): Promise<void> {
    const { config: c, logger } = this.opts;
    this.model = await OnnxAcousticModel.load({
      dir: c.model.dir, variant: c.model.variant, intraOpThreads: c.model.intraOpThreads,
      chunkMs: c.model.chunkMs, streaming: c.model.streaming,
    });
    logger.info('model loaded', { id: this.model.id, version: this.model.version, variant: this.model.variant, streaming: this.model.streaming });
    this.watcher = new VocabularyWatcher({ vocabPath: c.vocab.file, defaults: { threshold: c.kws.threshold, boost: c.kws.boost }, logger });
    this.vocabulary = await this.watcher.start();
    this.gate = await createGate({
      engine: c.vad.engine, threshold: c.vad.threshold, preRollMs: c.vad.preRollMs, hangoverMs: c.vad.hangoverMs,
      minSpeechMs: c.vad.minSegmentMs, maxSegmentMs: c.vad.maxSegmentMs, energyMarginDb: c.vad.energyMarginDb,
      energyMinLevelDb: c.vad.minLevelDbfs, sileroSpeechStride: c.vad.sileroSpeechStride, logger,
    });
    this.calibration = await this.loadCalibration(this.vocabulary);
    if (c.calibration.history) this.history = await ScoreHistory.open(c.state.dir, this.model.sha256, this.vocabulary.specs);
    this.listener = new Listener({
      gate: this.gate, model: this.model, keywords: this.vocabulary.specs, logger,
      searchOptions: { refractorySec: c.kws.refractoryMs / 1000 },
      thresholds: this.calibration.thresholds ?? undefined, scores: this.history ?? undefined,
    });
    this.listener.on('detection', (d) => this.onDetection(d));
    this.watcher.on('reload', (loaded) => this.track(this.onVocabulary(loaded)));
    this.watcher.on('error', (err) => this.publisher?.publishError('vocabulary', err));
    await this.startPublisher();
    if (this.calibration.error) this.publisher!.publishError('calibration', this.calibration.error);
    if (this.history) {
      this.historyTimer = setInterval(() => void this.writeHistory(), HISTORY_WRITE_MS);
      this.historyTimer.unref();
    }
    this.startHealth();
    await this.opts.beforeListening?.(this);
    await this.startSource();
    await this.notifier.ready(`listening on ${this.source!.description}`);
    this.notifier.start();
    await this.writeHeartbeat();
    this.heartbeatTimer = setInterval(() => void this.writeHeartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  /** The site calibration beside the vocabulary (calibration.file), checked against model and vocabulary. */
  private async loadCalibration(v: LoadedVocabulary): Promise<CalibrationInUse> {
    const { config: c, logger } = this.opts;
    const file = c.calibration.file || calibrationPathFor(c.vocab.file);
    const m = this.model!;
    const inUse = await calibrationFor(file, { model: { id: m.id, version: m.version, sha256: m.sha256 }, vocabulary: { version: v.vocab.version }, boost: c.kws.boost });
    if (inUse.error) logger.error('calibration refused; the vocabulary\'s thresholds apply', { file, error: inUse.error.message });
    else if (inUse.status.used) logger.info('calibration loaded', { file, terms: inUse.status.terms, source: inUse.status.source });
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

  private async startPublisher(): Promise<void> {
    const { config: c, logger } = this.opts;
    this.publisher = new MqttPublisher({
      url: c.mqtt.url, embeddedPort: c.mqtt.embeddedPort, baseTopic: c.mqtt.baseTopic, deviceId: c.device.id,
      siteId: c.device.siteId || undefined, clientId: c.mqtt.clientId || undefined, username: c.mqtt.username || undefined,
      password: c.mqtt.password || undefined,
      tls: { caFile: c.mqtt.ca || undefined, certFile: c.mqtt.cert || undefined, keyFile: c.mqtt.key || undefined, rejectUnauthorized: c.mqtt.rejectUnauthorized },
      stateDir: c.state.dir, outbox: { maxBytes: c.outbox.maxBytes, maxAgeMs: c.outbox.maxAgeH * 3600_000 },
      faultQuietMs: c.mqtt.faultOffAfterS * 1000, faultCategories: c.mqtt.faultCategories,
      homeAssistant: { enabled: c.mqtt.homeAssistant.enabled, discoveryPrefix: c.mqtt.homeAssistant.prefix },
      keepaliveSec: c.mqtt.keepaliveS, logger,
    });
    this.publisher.on('error', (err) => logger.warn('mqtt', { where: err.where, error: err.message }));
    this.publisher.on('connected', () => logger.info('mqtt connected'));
    await this.publisher.start();
    this.publishInfo();
  }

  private publishInfo(): void {
    const v = this.vocabulary!;
    this.publisher!.setInfo({
      version: this.opts.version,
      model: { id: this.model!.id, version: this.model!.version, sha256: this.model!.sha256 },
      vocabulary: { version: v.vocab.version, terms: v.vocab.terms.map((t) => ({ term: t.term, category: t.category, severity: t.severity })) },
      config: JSON.parse(printableConfig(this.opts.config)) as Record<string, unknown>,
      ...(this.calibration ? { calibration: { ...this.calibration.status } } : {}),
    });
  }

  private startHealth(): void {
    const { config: c, logger } = this.opts;
    this.health = new HealthMonitor({ intervalMs: c.health.intervalS * 1000, logger });
    this.health.registerProvider('audio', () => ({ levelDbfs: this.lastLevelDbfs, source: this.source?.description ?? null }));
    this.health.registerProvider('vad', () => {
      const s = this.gate!.stats();
      return { dutyCycle: s.samplesIn ? s.samplesGated / s.samplesIn : 0, segments: s.segments };
    });
    this.health.registerProvider('model', () => {
      const t = this.listener!.stats();
      return { realTimeFactor: t.audioSec ? (t.vadSec + t.modelSec + t.searchSec) / t.audioSec : 0, modelRealTimeFactor: t.speechSec ? t.modelSec / t.speechSec : 0, inferenceP95Ms: percentile(t.recentInferenceMs, 95), shedding: this.shed ? 1 : 0 };
    });
    this.health.registerProvider('detections', () => ({ total: this.detections }));
    this.health.on('sample', (s) => this.publisher?.publishHealth({ ...s }));
    void this.health.start().catch((err: unknown) => logger.warn('health sample failed', { error: (err as Error).message }));
    this.memory = new MemoryBudget({ budgetMb: c.health.memoryBudgetMb });
    this.memory.on('change', (t) => {
      logger.warn('memory budget', { ...t });
      this.shed = t.to === 'shed' || t.to === 'exceeded';
      if (t.to === 'exceeded') {
        this.publisher?.publishError('memory', new Error(`resident memory ${t.rssMb} MB is over the ${t.budgetMb} MB budget; exiting for a clean restart`));
        void this.stop('memory budget exceeded', 1);
      }
    });
    this.memory.start(5000);
  }

  private async startSource(): Promise<void> {
    const { config: c, logger } = this.opts;
    // A plain `mic` uses audio.device; `mic:<device>` names its own.
    const spec = c.audio.source.trim() === 'mic' && c.audio.device !== 'default' ? `mic:${c.audio.device}` : c.audio.source;
    this.source = createAudioSource(spec, {
      mic: { restartMaxDelayMs: c.audio.restartMaxDelayMs, stallTimeoutMs: c.audio.watchdogMs, logger },
      file: { pace: c.audio.pace },
    });
    this.source.on('data', (chunk) => this.onAudio(chunk));
    this.source.on('status', (s) => {
      logger.info('audio source', { state: s.state, detail: s.detail });
      if (s.state === 'stalled' || s.state === 'restarting') this.publisher?.publishError('audio', new Error(`${this.source?.description}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`));
    });
    this.source.on('error', (err) => {
      logger.error('audio source error', { error: err.message, fatal: err.fatal });
      this.publisher?.publishError('audio', err);
      if (err.fatal) void this.stop(`audio source failed: ${err.message}`, 1);
    });
    this.source.on('end', () => void this.finishInput());
    await this.source.start();
    logger.info('listening', { source: this.source.description });
  }

  private onAudio(chunk: AudioChunk): void {
    this.notifier.frameSeen();
    const first = this.lastAudioAt === null;
    this.lastAudioAt = new Date();
    this.history?.addAudio(chunk.samples.length / SAMPLE_RATE);
    if (first && this.heartbeatTimer) void this.writeHeartbeat();
    let sum = 0;
    for (let i = 0; i < chunk.samples.length; i++) sum += chunk.samples[i]! * chunk.samples[i]!;
    this.lastLevelDbfs = Math.round(Math.max(-150, 10 * Math.log10(sum / Math.max(1, chunk.samples.length) + 1e-15)) * 10) / 10;
    this.track(this.listener!.push(chunk).catch((err: unknown) => {
      this.opts.logger.error('listening path failed on a chunk', { error: (err as Error).message });
      this.publisher?.publishError('listener', err);
    }));
  }

  private onDetection(d: HeardDetection): void {
    this.detections++;
    this.opts.logger.info('detection', { term: d.term, category: d.category, confidence: d.confidence, start: d.start, end: d.end });
    const v = this.vocabulary!;
    this.track(this.publisher!.publishDetection({
      ...d, model: { id: this.model!.id, version: this.model!.version }, vocabularyVersion: v.vocab.version,
    }).catch((err: unknown) => {
      this.opts.logger.error('could not store a detection in the outbox', { term: d.term, error: (err as Error).message });
      this.publisher?.publishError('outbox', err);
    }));
  }

  private async onVocabulary(loaded: LoadedVocabulary): Promise<void> {
    const calibration = await this.loadCalibration(loaded);
    if (calibration.error) this.publisher?.publishError('calibration', calibration.error);
    try {
      this.listener!.setKeywords(loaded.specs, calibration.thresholds);
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

  /** A file or stdin source ended: finish the last segment, wait for the broker to take everything, exit. */
  private async finishInput(): Promise<void> {
    await this.settle();
    await this.listener!.flush();
    await this.settle();
    const drained = await this.publisher!.drain(this.opts.config.mqtt.drainTimeoutMs);
    if (!drained) {
      this.opts.logger.error('gave up waiting for the broker to acknowledge every detection; they stay in the outbox for the next start', {
        depth: this.publisher!.stats().outbox.depth, drainTimeoutMs: this.opts.config.mqtt.drainTimeoutMs,
      });
    }
    await this.stop('input ended', drained ? 0 : EXIT_DRAIN_TIMEOUT);
  }

  /** Stops capture, lets pending detections reach the outbox, publishes `offline`, releases everything. */
  stop(reason: string, code = 0): Promise<number> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.opts.logger.info('stopping', { reason });
      await this.notifier.stopping();
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      await this.source?.stop();
      await this.settle();
      if (this.listener && code !== 1) await this.listener.flush().catch(() => undefined);
      await this.settle();
      await this.watcher?.stop();
      if (this.historyTimer) clearInterval(this.historyTimer);
      await this.writeHistory();
      this.memory?.stop();
      await this.health?.stop();
      await this.notifier.stop();
      await this.publisher?.stop();
      await this.gate?.dispose();
      await this.model?.dispose();
      this.resolveFinished(code);
      return code;
    })();
    return this.stopping;
  }

  get embeddedBrokerUrl(): string | null {
    return this.publisher?.embeddedUrl ?? null;
  }
}
