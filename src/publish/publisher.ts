import { EventEmitter } from 'node:events';
import { emitErrorIfHeard } from '../events.js';
import { MqttConnection, type ConnectionOptions } from './connection.js';
import { buildDiscovery, DEFAULT_HEALTH_SENSORS } from './discovery.js';
import { embeddedCredentials, startEmbeddedBroker, type BrokerCredentials, type EmbeddedBroker } from './embedded-broker.js';
import { FaultTracker } from './faults.js';
import { buildDetection, buildError, buildInfo } from './messages.js';
import { Outbox } from './outbox.js';
import type { RequestResponse, RequestRouter } from './requests.js';
import { DeviceTopics, FAULT_OFF, haStatusTopic, STATUS_OFFLINE, STATUS_ONLINE, TOPICS } from './topics.js';
import { PublishError } from './types.js';
import type { DetectionMessageInput, ErrorMessage, InfoInput, PublisherEvents, PublisherOptions, PublisherStats } from './types.js';

const DEFAULTS = { inflightWindow: 16, keepaliveSec: 30, connectTimeoutMs: 10_000, minDelayMs: 1000, maxDelayMs: 60_000, discoveryPrefix: 'homeassistant' };
/** Errors raised while offline wait in memory up to this many; older ones are dropped and counted. */
const MAX_QUEUED_ERRORS = 50;
/** How long stop() waits for its last publishes (faults OFF, then `offline`) before disconnecting. */
const STOP_PUBLISH_TIMEOUT_MS = 2000;

/**
 * The one place that owns broker policy: Last Will `offline`, `online` on every connect, topic
 * prefix, QoS/retain per topic, and what happens offline (detections wait in the durable outbox;
 * retained state is republished on connect; errors wait in a small counted queue).
 */
export class MqttPublisher extends EventEmitter<PublisherEvents> {
  readonly topics: DeviceTopics;
  private connection: MqttConnection | null = null;
  private outbox: Outbox | null = null;
  private broker: EmbeddedBroker | null = null;
  private readonly faults: FaultTracker;
  private readonly inflight = new Set<number>();
  private cursor = 0;
  /** Bumped on every (dis)connect so late callbacks of an old connection leave the window alone. */
  private epoch = 0;
  private appending = 0;
  private info: Record<string, unknown> | null = null;
  private health: Record<string, unknown> | null = null;
  private queuedErrors: ErrorMessage[] = [];
  private drainWaiters: Array<() => void> = [];
  private startedAt = Date.now();
  private counts = { published: 0, acked: 0, errorsDropped: 0 };
  private requests: RequestRouter | null = null;
  private feedbackButtons = false;
  private adaptButton = false;

  constructor(private readonly opts: PublisherOptions) {
    super();
    this.topics = new DeviceTopics(opts.baseTopic, opts.deviceId);
    this.faults = new FaultTracker(opts.faultQuietMs, (category, state) => this.send(this.topics.fault(category), state, TOPICS.fault.qos, TOPICS.fault.retain));
    for (const c of opts.faultCategories ?? []) this.faults.declare(c);
  }

  /**
   * Opens the outbox and starts connecting; resolves without waiting for the broker. Throws on bad
   * TLS files, and OutboxStorageError (exit code 78) when the state directory cannot be written.
   */
  async start(): Promise<void> {
    const o = this.opts;
    this.startedAt = Date.now();
    this.outbox = await Outbox.open({ dir: o.stateDir, ...o.outbox, ...o.outboxTuning, logger: o.logger, onDrop: (seqs) => this.onDropped(seqs), onReadable: () => this.pump() });
    for (const problem of this.outbox.openProblems) this.publishError('outbox', new Error(problem));
    let url = o.url;
    if (url === 'embedded') {
      this.broker = await startEmbeddedBroker({ port: o.embeddedPort ?? 0, credentials: await embeddedCredentials(o.stateDir, o.logger), logger: o.logger });
      url = this.broker.url;
    }
    const connection = new MqttConnection(this.connectionOptions(url));
    connection.on('connected', () => this.onConnected());
    connection.on('disconnected', (e) => { this.resetInflight(); this.emit('disconnected', e); });
    connection.on('reconnecting', (e) => this.emit('reconnecting', e));
    connection.on('error', (e) => this.raise(e));
    connection.on('message', (topic, payload, retained) => this.onMessage(topic, payload.toString(), retained));
    this.connection = connection;
    await connection.start();
  }

  /** How the daemon connects: one place, so `gearhear doctor` connects exactly as the daemon does. */
  private connectionOptions(url: string): ConnectionOptions {
    const o = this.opts;
    return {
      url,
      clientId: o.clientId ?? `gearhear-${o.deviceId}`,
      username: this.broker?.credentials.username ?? o.username,
      password: this.broker?.credentials.password ?? o.password,
      tls: o.tls,
      will: { topic: this.topics.status, payload: STATUS_OFFLINE, qos: TOPICS.status.qos, retain: TOPICS.status.retain },
      keepaliveSec: o.keepaliveSec ?? DEFAULTS.keepaliveSec,
      clean: !o.persistentSession,
      connectTimeoutMs: o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      minDelayMs: o.reconnect?.minDelayMs ?? DEFAULTS.minDelayMs,
      maxDelayMs: o.reconnect?.maxDelayMs ?? DEFAULTS.maxDelayMs,
      logger: o.logger,
    };
  }

  /**
   * Connects once as the daemon would (same URL, credentials and TLS files), then disconnects:
   * what `gearhear doctor` checks. Its own client id, so a running daemon is not pushed off the
   * broker, and no Last Will. Rejects with the daemon's error message.
   */
  async probe(timeoutMs: number): Promise<void> {
    if (this.opts.url === 'embedded') throw new PublishError('the embedded broker runs inside the daemon; there is nothing to probe', 'connect');
    const base = this.connectionOptions(this.opts.url);
    await MqttConnection.probe({ ...base, clientId: `${base.clientId}-doctor`, will: undefined, connectTimeoutMs: timeoutMs });
  }

  /** The embedded broker's URL when `url` is `embedded` (null otherwise). */
  get embeddedUrl(): string | null { return this.broker?.url ?? null; }

  /** The embedded broker's one account (also in `<stateDir>/embedded-broker.json`); null otherwise. */
  get embeddedCredentials(): BrokerCredentials | null { return this.broker?.credentials ?? null; }

  /**
   * Resolves once the detection is durably in the outbox, or, when the disk refuses it, held in the
   * outbox's bounded memory (reported on `error` with its seq and term, retried to disk); either
   * way it is sent as soon as the broker allows.
   */
  async publishDetection(d: DetectionMessageInput): Promise<void> {
    const outbox = this.requireOutbox();
    this.faults.heard(d.category);
    this.appending++;
    try {
      const { seq, stored } = outbox.append((s) => buildDetection(d, s, this.opts.deviceId, this.opts.siteId));
      const result = await stored;
      if (!result.durable) {
        const message = `detection seq ${seq} (term "${d.term}") could not be written to ${outbox.logFile}: ${result.error.cause instanceof Error ? result.error.cause.message : result.error.message}; it is held in memory (${result.inMemory} waiting), written as soon as the disk allows, and sent if the broker is up`;
        this.opts.logger.error('outbox: a detection is held in memory only', { seq, term: d.term, inMemory: result.inMemory, error: result.error.message });
        this.publishError('outbox', new Error(message), { seq, term: d.term });
      }
    } finally {
      this.appending--;
    }
    this.pump();
  }

  /** Serves `request/<action>` with this router (subscribed on every connect, QoS 1); set before start(). */
  serveRequests(router: RequestRouter): void {
    this.requests = router;
    if (this.connection?.connected) this.connection.subscribe(this.topics.requests, TOPICS.request.qos);
  }

  /** Adds Home Assistant buttons that send a verdict on the last detection to `request/feedback`. */
  offerFeedbackButtons(): void {
    this.feedbackButtons = true;
  }

  /** Adds a Home Assistant button that sends `request/adapt` (gearhear adapt: site heads). */
  offerAdaptButton(): void {
    this.adaptButton = true;
  }

  /**
   * Publishes the answer to a request on `response/<action>` (QoS 1, not retained; dropped while
   * offline); resolves once the broker has it or it was dropped.
   */
  respond(action: string, response: RequestResponse): Promise<void> {
    return this.send(this.topics.response(action), JSON.stringify(response), TOPICS.response.qos, TOPICS.response.retain);
  }

  /** The retained `info` payload as last published (null before setInfo). */
  get currentInfo(): Record<string, unknown> | null { return this.info; }

  /** Publishes the health sample (plus the publisher's own figures) and returns the payload as sent. */
  publishHealth(h: Record<string, unknown>): Record<string, unknown> {
    const payload: Record<string, unknown> = { timestamp: new Date().toISOString(), deviceId: this.opts.deviceId, uptimeSec: Math.round((Date.now() - this.startedAt) / 1000), ...h };
    payload.outbox = this.outbox?.stats() ?? null;
    const c = this.connection?.counts;
    payload.mqtt = { connected: this.connection?.connected ?? false, connectAttempts: c?.attempts ?? 0, connects: c?.connects ?? 0, refusals: c?.refusals ?? 0 };
    this.health = payload;
    this.send(this.topics.health, JSON.stringify(payload), TOPICS.health.qos, TOPICS.health.retain);
    return payload;
  }

  publishError(where: string, err: unknown, about?: { seq: number; term: string }): void {
    const msg = buildError(where, err, this.opts.deviceId, about);
    if (this.connection?.connected) {
      this.send(this.topics.error, JSON.stringify(msg), TOPICS.error.qos, TOPICS.error.retain);
      return;
    }
    this.queuedErrors.push(msg);
    if (this.queuedErrors.length > MAX_QUEUED_ERRORS) {
      this.queuedErrors.shift();
      this.counts.errorsDropped++;
    }
  }

  setInfo(info: InfoInput): void {
    this.info = buildInfo(info, this.opts.deviceId, this.opts.siteId);
    for (const t of info.vocabulary.terms) this.faults.declare(t.category);
    this.send(this.topics.info, JSON.stringify(this.info), TOPICS.info.qos, TOPICS.info.retain);
    this.publishDiscovery();
  }

  /** Resolves true once every detection handed in so far was acknowledged, false after timeoutMs. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.isDrained()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.drainWaiters.push(waiter);
    });
  }

  /** Publishes every fault that is ON as OFF, then `offline`, disconnects cleanly (no Last Will), and closes the outbox. Never throws: a failed step is logged and the next runs. */
  async stop(): Promise<void> {
    const step = async (name: string, fn: () => Promise<unknown> | unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.opts.logger.error(`mqtt: stopping: ${name} failed`, { error: (err as Error).message });
      }
    };
    const faultsOn = this.faults.allOff();
    const connection = this.connection;
    this.connection = null;
    if (connection?.connected) {
      await step('publishing faults OFF and offline', () => {
        // In this order on the one connection: no consumer sees a fault ON for a device that is gone.
        const last = faultsOn.map((category) => connection.publish(this.topics.fault(category), FAULT_OFF, TOPICS.fault.qos, TOPICS.fault.retain));
        last.push(connection.publish(this.topics.status, STATUS_OFFLINE, TOPICS.status.qos, TOPICS.status.retain));
        return Promise.race([Promise.all(last), new Promise((r) => setTimeout(r, STOP_PUBLISH_TIMEOUT_MS).unref())]);
      });
    }
    await step('disconnecting', () => connection?.stop());
    this.resetInflight();
    await step('closing the outbox', () => this.outbox?.close());
    this.outbox = null;
    await step('stopping the embedded broker', () => this.broker?.stop());
    this.broker = null;
  }

  stats(): PublisherStats {
    const c = this.connection?.counts;
    const outbox = this.outbox?.stats() ?? { depth: 0, bytes: 0, inMemory: 0, dropped: 0, droppedBySize: 0, droppedByAge: 0, droppedFromMemory: 0, writeFailures: 0, tornRecords: 0, oldestSeq: null, nextSeq: 0 };
    return { connected: this.connection?.connected ?? false, connectAttempts: c?.attempts ?? 0, connects: c?.connects ?? 0, refusals: c?.refusals ?? 0, inflight: this.inflight.size, ...this.counts, outbox };
  }

  private onConnected(): void {
    this.resetInflight();
    this.send(this.topics.status, STATUS_ONLINE, TOPICS.status.qos, TOPICS.status.retain);
    if (this.info) this.send(this.topics.info, JSON.stringify(this.info), TOPICS.info.qos, TOPICS.info.retain);
    for (const [category, state] of this.faults.all()) this.send(this.topics.fault(category), state, TOPICS.fault.qos, TOPICS.fault.retain);
    if (this.health) this.send(this.topics.health, JSON.stringify(this.health), TOPICS.health.qos, TOPICS.health.retain);
    if (this.requests) this.connection?.subscribe(this.topics.requests, TOPICS.request.qos);
    const ha = this.opts.homeAssistant;
    if (ha?.enabled) {
      this.connection?.subscribe(haStatusTopic(ha.discoveryPrefix ?? DEFAULTS.discoveryPrefix));
      this.publishDiscovery();
    }
    const errors = this.queuedErrors;
    this.queuedErrors = [];
    for (const e of errors) this.send(this.topics.error, JSON.stringify(e), TOPICS.error.qos, TOPICS.error.retain);
    this.emit('connected');
    this.pump();
  }

  private onMessage(topic: string, payload: string, retained: boolean): void {
    const action = this.requests ? this.topics.requestAction(topic) : null;
    if (action !== null) {
      if (retained) this.requests!.refuseRetained(action, topic, payload);
      else void this.requests!.serve(action, payload);
      return;
    }
    const ha = this.opts.homeAssistant;
    if (ha?.enabled && topic === haStatusTopic(ha.discoveryPrefix ?? DEFAULTS.discoveryPrefix) && payload === 'online') {
      this.opts.logger.info('mqtt: Home Assistant came online, republishing discovery');
      this.publishDiscovery();
    }
  }

  private publishDiscovery(): void {
    const ha = this.opts.homeAssistant;
    if (!ha?.enabled) return;
    const messages = buildDiscovery({
      prefix: ha.discoveryPrefix ?? DEFAULTS.discoveryPrefix,
      deviceId: this.opts.deviceId,
      deviceName: ha.deviceName ?? `gearhear ${this.opts.deviceId}`,
      siteId: this.opts.siteId,
      swVersion: typeof this.info?.version === 'string' ? this.info.version : undefined,
      topics: this.topics,
      categories: this.faults.categories(),
      healthSensors: [...DEFAULT_HEALTH_SENSORS, ...(ha.healthSensors ?? [])],
      feedbackButtons: this.feedbackButtons,
      adaptButton: this.adaptButton,
    });
    for (const m of messages) this.send(m.topic, JSON.stringify(m.config), 1, true);
  }

  /** Sends detections in seq order, at most `inflightWindow` unacknowledged at once. */
  private pump(): void {
    const outbox = this.outbox;
    const connection = this.connection;
    const window = this.opts.inflightWindow ?? DEFAULTS.inflightWindow;
    while (outbox && connection?.connected && this.inflight.size < window) {
      const record = outbox.firstAfter(this.cursor);
      if (!record) break;
      this.cursor = record.seq;
      this.inflight.add(record.seq);
      const epoch = this.epoch;
      this.counts.published++;
      connection.publish(this.topics.detection, record.payload, TOPICS.detection.qos, TOPICS.detection.retain).then(
        () => {
          // A PUBACK is proof of delivery even if it arrives after a reconnect began.
          this.counts.acked++;
          this.outbox?.ack(record.seq);
          if (epoch === this.epoch) this.inflight.delete(record.seq);
          this.pump();
          this.checkDrained();
        },
        (err: Error) => {
          // Not acknowledged: it stays in the outbox and is replayed on the next connection.
          if (epoch !== this.epoch) return;
          this.inflight.delete(record.seq);
          if (this.connection?.connected) this.opts.logger.warn('mqtt: detection not acknowledged, will replay after reconnect', { seq: record.seq, error: err.message });
        },
      );
    }
  }

  private onDropped(seqs: number[]): void {
    for (const s of seqs) this.inflight.delete(s);
    this.checkDrained();
  }

  private resetInflight(): void {
    this.inflight.clear();
    this.cursor = 0;
    this.epoch++;
  }

  private isDrained(): boolean {
    return this.appending === 0 && (this.outbox?.depth ?? 0) === 0;
  }

  private checkDrained(): void {
    if (!this.isDrained() || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Fire-and-forget state publish: only while connected (state is republished on connect). Never
   * rejects; resolves once the broker has it, or at once when it is dropped.
   */
  private send(topic: string, payload: string, qos: 0 | 1, retain: boolean): Promise<void> {
    const connection = this.connection;
    if (!connection?.connected) return Promise.resolve();
    return connection.publish(topic, payload, qos, retain).catch((err: Error) => this.opts.logger.debug('mqtt: state publish not completed', { topic, error: err.message }));
  }

  private requireOutbox(): Outbox {
    if (!this.outbox) throw new PublishError('MqttPublisher.start() must finish before publishing detections', 'publish');
    return this.outbox;
  }

  /** Emits 'error' only when someone listens (an unheard 'error' would crash the daemon); always logged. */
  private raise(err: PublishError): void {
    emitErrorIfHeard(this, err);
  }
}
