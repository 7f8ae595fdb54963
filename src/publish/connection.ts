import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { backoffDelayMs } from '../backoff.js';
import type { Logger } from '../log.js';
import { loadTlsFiles, redactUrl, type TlsMaterial } from './tls-files.js';
import { PublishError, type TlsFileOptions } from './types.js';

export interface ConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: TlsFileOptions;
  /** Last Will: what the broker publishes if this client vanishes (none for a probe). */
  will?: { topic: string; payload: string; qos: 0 | 1; retain: boolean };
  keepaliveSec: number;
  /** false: a persistent session (the broker keeps subscriptions and queues QoS 1 messages while away). Default true. */
  clean?: boolean;
  connectTimeoutMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  logger: Logger;
}

export interface ConnectionEvents {
  connected: [];
  disconnected: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number }];
  error: [PublishError];
  /** topic, payload, and MQTT's retain flag as received (set on retained messages sent at subscribe). */
  message: [string, Buffer, boolean];
}

const REFUSAL_HINTS: Record<number, string> = {
  4: 'check the MQTT username and password',
  5: 'check the MQTT username and password, and that the broker allows this client (ACL, client certificate)',
  134: 'check the MQTT username and password',
  135: 'check the MQTT username and password, and that the broker allows this client (ACL, client certificate)',
  2: 'the broker rejected the client id: set a different one',
  133: 'the broker rejected the client id: set a different one',
};
const JITTER = 0.2;
const STOP_GRACE_MS = 2000;

/**
 * One MQTT connection with honest state: `connected` only after a successful CONNACK.
 * mqtt.js's own reconnect is off; each attempt uses a fresh client after an exponential backoff,
 * so nothing is queued inside mqtt.js while offline (the publisher decides what to send).
 */
export class MqttConnection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | null = null;
  private tls: TlsMaterial | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private lastError = '';
  private stopping = false;
  private isConnected = false;
  readonly counts = { attempts: 0, connects: 0, refusals: 0 };
  private readonly where: string;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    this.where = redactUrl(opts.url);
  }

  get connected(): boolean { return this.isConnected; }

  /** One connection attempt with these options: resolves once connected (then disconnects), rejects with the first error. */
  static async probe(opts: ConnectionOptions): Promise<void> {
    const connection = new MqttConnection(opts);
    const outcome = new Promise<void>((resolve, reject) => {
      connection.once('connected', resolve);
      connection.on('error', reject);
      connection.on('disconnected', (e) => reject(new PublishError(`MQTT broker ${connection.where} closed the connection: ${e.reason}`, 'connect')));
    });
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new PublishError(`no answer from MQTT broker ${connection.where} within ${opts.connectTimeoutMs} ms`, 'connect')), opts.connectTimeoutMs + 1000).unref();
    });
    try {
      await connection.start();
      await Promise.race([outcome, timeout]);
    } finally {
      await connection.stop();
    }
  }

  /** Reads TLS files (throws on a missing one), then starts connecting in the background. */
  async start(): Promise<void> {
    this.tls = await loadTlsFiles(this.opts.tls);
    this.stopping = false;
    this.attempt();
  }

  /** Publishes on the live connection; rejects when offline (nothing is queued here). */
  publish(topic: string, payload: string, qos: 0 | 1, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected) return Promise.reject(new PublishError(`not connected to ${this.where}`, 'publish'));
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  subscribe(topic: string, qos: 0 | 1 = 0): void {
    this.client?.subscribe(topic, { qos }, (err) => {
      if (err) this.report(new PublishError(`could not subscribe to ${topic} on ${this.where}: ${err.message}`, 'subscribe', undefined, { cause: err }));
    });
  }

  /** Ends the connection cleanly (DISCONNECT, so no Last Will) and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    this.isConnected = false;
    if (!client) return;
    const graceful = client.endAsync(false);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS); });
    const result = await Promise.race([graceful.then(() => 'ok' as const), timeout]).catch(() => 'timeout' as const);
    clearTimeout(timer);
    if (result === 'timeout') await client.endAsync(true).catch(() => undefined);
  }

  private attempt(): void {
    if (this.stopping) return;
    this.counts.attempts++;
    const client = mqtt.connect(this.opts.url, this.clientOptions());
    this.client = client;
    let wasConnected = false;
    client.on('connect', () => {
      if (client !== this.client) return;
      wasConnected = true;
      this.isConnected = true;
      this.failures = 0;
      this.lastError = '';
      this.counts.connects++;
      this.opts.logger.info('mqtt: connected', { broker: this.where });
      this.emit('connected');
    });
    client.on('message', (topic, payload, packet) => { if (client === this.client) this.emit('message', topic, payload, packet.retain); });
    client.on('error', (err) => { if (client === this.client) this.report(this.translate(err)); });
    client.on('close', () => {
      if (client !== this.client) return;
      this.isConnected = false;
      client.end(true);
      this.client = null;
      if (wasConnected) {
        this.opts.logger.warn('mqtt: connection lost', { broker: this.where });
        this.emit('disconnected', { reason: this.lastError || 'connection closed' });
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.timer) return;
    const delayMs = backoffDelayMs(this.failures++, { minDelayMs: this.opts.minDelayMs, maxDelayMs: this.opts.maxDelayMs, jitter: JITTER });
    this.emit('reconnecting', { attempt: this.counts.attempts + 1, delayMs });
    this.timer = setTimeout(() => { this.timer = null; this.attempt(); }, delayMs);
    this.timer.unref();
  }

  private clientOptions(): IClientOptions {
    const o = this.opts;
    return {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      clean: o.clean ?? true,
      protocolVersion: 4,
      keepalive: o.keepaliveSec,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      will: o.will ? { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos, retain: o.will.retain } : undefined,
      ca: this.tls?.ca,
      cert: this.tls?.cert,
      key: this.tls?.key,
      rejectUnauthorized: this.tls?.rejectUnauthorized ?? true,
    };
  }

  /** Turns mqtt.js / socket / TLS errors into one clear message naming the broker and what to check. */
  private translate(err: Error & { code?: number | string }): PublishError {
    const code = err.code;
    if (typeof code === 'number') {
      this.counts.refusals++;
      const hint = REFUSAL_HINTS[code] ?? 'see the broker log';
      return new PublishError(`MQTT broker ${this.where} refused the connection: ${err.message.replace(/^Connection refused: /, '')} (CONNACK code ${code}); ${hint}`, 'connect', code, { cause: err });
    }
    if (typeof code === 'string' && /CERT|SELF_SIGNED|SIGNATURE|TLS|SSL|ISSUER/.test(code)) {
      return new PublishError(`TLS handshake with ${this.where} failed: ${err.message} (${code}); check mqtt.ca (the CA that signed the broker's certificate) and that the certificate names this host`, 'tls', code, { cause: err });
    }
    return new PublishError(`cannot reach MQTT broker ${this.where}: ${err.message}`, 'connect', code, { cause: err });
  }

  /** Emits each distinct error once per outage (a broker down for an hour is one error, not 3600). */
  private report(err: PublishError): void {
    this.opts.logger.debug('mqtt: error', { error: err.message });
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.opts.logger.error(err.message, { where: err.where, code: err.code });
    this.emit('error', err);
  }
}
