/**
 * Requests over MQTT, as Zigbee2MQTT's `bridge/request/<action>`: a JSON object published to
 * `<base>/<device>/request/<action>` is answered on `<base>/<device>/response/<action>` with
 * `{status: "ok", data, transaction}` or `{status: "error", error, data: {}, transaction}`. The
 * optional `transaction` (string or number) is echoed so a caller can match answers to requests.
 * See schemas/request.schema.json, schemas/response.schema.json and docs/mqtt.md.
 */
import type { Logger } from '../log.js';
import { RequestQueue, type RequestQueueLimits } from './request-queue.js';

/** The request's payload without `transaction`. */
export type RequestParams = Record<string, unknown>;
/** Answers a request with its `data`; a thrown error becomes a `status: "error"` response. */
export type RequestHandler = (params: RequestParams) => Promise<unknown> | unknown;

export interface RequestResponse {
  status: 'ok' | 'error';
  data: unknown;
  error?: string;
  transaction?: string | number;
}

/** A request that cannot be served as sent: the caller's mistake, answered with its message. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export interface RequestRouterOptions {
  /**
   * Publishes one response for `action` (QoS 1, not retained); may return a promise that settles
   * once the response is sent (the request holds its slot until then, at most RESPOND_WAIT_MS).
   */
  respond: (action: string, response: RequestResponse) => Promise<void> | void;
  logger: Logger;
  /** Payloads larger than this are refused before parsing (default 64 KiB). */
  maxRequestBytes?: number;
  /** Requests served at once and waiting (default DEFAULT_REQUEST_LIMITS); beyond them a request is answered "busy". */
  limits?: RequestQueueLimits;
}

const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;
/** A request keeps its slot until its response is sent, or this long (a broker that never acknowledges). */
const RESPOND_WAIT_MS = 10_000;

/**
 * Routes each request to the handler of its action and publishes exactly one response for it.
 * Requests are served a few at a time (RequestQueue); one that finds the queue full is answered
 * "busy" at once, with its transaction.
 */
export class RequestRouter {
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly queue: RequestQueue;
  /** Requests answered "busy" since the queue was last empty. */
  private busyRefusals = 0;
  /** Actions whose retained request was refused in this run, and whether its clearing came since. */
  private readonly retained = new Map<string, 'refused' | 'cleared'>();

  constructor(private readonly opts: RequestRouterOptions) {
    this.queue = new RequestQueue(opts.limits);
  }

  handle(action: string, handler: RequestHandler): this {
    this.handlers.set(action, handler);
    return this;
  }

  get actions(): string[] { return [...this.handlers.keys()].sort(); }

  /**
   * Serves one request when a slot is free (or once one is), or answers it "busy" at once when the
   * queue is full; resolves with the response once it is sent (null for the clearing of a refused
   * retained request, which is not a request). Never throws.
   */
  serve(action: string, payload: Buffer | string): Promise<RequestResponse | null> {
    if (this.clearsRetained(action, payload)) return Promise.resolve(null);
    const served = this.queue.run(() => this.answer(action, payload));
    if (served) return served.finally(() => this.reportBusyWhenIdle());
    if (this.busyRefusals++ === 0) {
      this.opts.logger.warn('mqtt requests come faster than they are served: answering "busy" until the queue has room', { action, ...this.queue.limits });
    }
    const { running, waiting } = this.queue.limits;
    return Promise.resolve(this.refuse(action, payload, `busy: ${running} requests are being served and ${waiting} are waiting; send it again later`));
  }

  /**
   * A request that arrived retained (the broker keeps it and hands it over on every subscribe, so
   * serving it would repeat it — a retained `restart` restarts the daemon for ever): not served;
   * answered with an error and logged with how to clear it, once per topic in this run.
   */
  refuseRetained(action: string, topic: string, payload: Buffer | string): void {
    if (this.retained.has(action)) return;
    this.retained.set(action, 'refused');
    const clear = `mosquitto_pub -r -n -t '${topic}'`;
    this.opts.logger.warn(`ignoring a retained request on ${topic}: requests must be sent without retain; clear it with \`${clear}\``, { action, topic });
    this.refuse(action, payload, `retained requests are not served (the broker would repeat them on every connect): clear it with \`${clear}\` and send the request again without retain`);
  }

  /**
   * Clearing a retained request (`mosquitto_pub -r -n`) reaches a device that is subscribed as an
   * empty message without the retain flag, like an empty request: after a refused retained request,
   * the first empty message of its action is taken as its clearing, not served. (Were it cleared
   * while the device was away, one later empty request of that action goes unanswered.)
   */
  private clearsRetained(action: string, payload: Buffer | string): boolean {
    if (this.retained.get(action) !== 'refused' || payload.length !== 0) return false;
    this.retained.set(action, 'cleared');
    this.opts.logger.info('a retained request was cleared; the empty message that cleared it is not served', { action });
    return true;
  }

  /** Answers a request with an error without serving it; its transaction is echoed when it has one. */
  private refuse(action: string, payload: Buffer | string, error: string): RequestResponse {
    const response: RequestResponse = { status: 'error', data: {}, error };
    const transaction = this.transactionOf(payload);
    if (transaction !== undefined) response.transaction = transaction;
    this.opts.logger.debug('mqtt request refused', { action, error });
    void Promise.resolve(this.opts.respond(action, response)).catch(() => undefined);
    return response;
  }

  private transactionOf(payload: Buffer | string): string | number | undefined {
    try {
      const transaction = this.parse(payload).transaction;
      return typeof transaction === 'string' || typeof transaction === 'number' ? transaction : undefined;
    } catch {
      return undefined;
    }
  }

  private reportBusyWhenIdle(): void {
    if (this.queue.size > 0 || this.busyRefusals === 0) return;
    this.opts.logger.warn('mqtt requests: no longer busy', { answeredBusy: this.busyRefusals });
    this.busyRefusals = 0;
  }

  private async answer(action: string, payload: Buffer | string): Promise<RequestResponse> {
    let transaction: string | number | undefined;
    let response: RequestResponse;
    try {
      const params = this.parse(payload);
      if (typeof params.transaction === 'string' || typeof params.transaction === 'number') transaction = params.transaction;
      else if (params.transaction !== undefined) throw new RequestError('"transaction" must be a string or a number');
      delete params.transaction;
      const handler = this.handlers.get(action);
      if (!handler) throw new RequestError(`unknown request "${action}"; this device answers: ${this.actions.join(', ')}`);
      response = { status: 'ok', data: (await handler(params)) ?? {} };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof RequestError)) this.opts.logger.warn('mqtt request failed', { action, error: message });
      response = { status: 'error', data: {}, error: message };
    }
    if (transaction !== undefined) response.transaction = transaction;
    this.opts.logger.info('mqtt request', { action, status: response.status, ...(response.error ? { error: response.error } : {}) });
    await sentWithin(this.opts.respond(action, response), RESPOND_WAIT_MS);
    return response;
  }

  private parse(payload: Buffer | string): RequestParams {
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const max = this.opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    if (size > max) throw new RequestError(`request of ${size} bytes is over the ${max}-byte limit`);
    const text = payload.toString().trim();
    if (text === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new RequestError('request payload is not JSON: send a JSON object, e.g. {"transaction":"1"} (or an empty payload)');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RequestError('request payload must be a JSON object, e.g. {"transaction":"1"}');
    return { ...(value as RequestParams) };
  }
}

/** Waits for a response to be sent, at most `ms`; a failed send is the publisher's to report. */
async function sentWithin(sending: Promise<void> | void, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); timer.unref(); });
  try {
    await Promise.race([Promise.resolve(sending).catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
