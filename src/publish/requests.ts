/**
 * Requests over MQTT, as Zigbee2MQTT's `bridge/request/<action>`: a JSON object published to
 * `<base>/<device>/request/<action>` is answered on `<base>/<device>/response/<action>` with
 * `{status: "ok", data, transaction}` or `{status: "error", error, data: {}, transaction}`. The
 * optional `transaction` (string or number) is echoed so a caller can match answers to requests.
 * See schemas/request.schema.json, schemas/response.schema.json and docs/mqtt.md.
 */
import type { Logger } from '../log.js';

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
  /** Publishes one response for `action` (QoS 1, not retained). */
  respond: (action: string, response: RequestResponse) => void;
  logger: Logger;
  /** Payloads larger than this are refused before parsing (default 64 KiB). */
  maxRequestBytes?: number;
}

const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;

/** Routes each request to the handler of its action and publishes exactly one response for it. */
export class RequestRouter {
  private readonly handlers = new Map<string, RequestHandler>();

  constructor(private readonly opts: RequestRouterOptions) {}

  handle(action: string, handler: RequestHandler): this {
    this.handlers.set(action, handler);
    return this;
  }

  get actions(): string[] { return [...this.handlers.keys()].sort(); }

  /** Serves one request; resolves once its response was handed to `respond`. Never throws. */
  async serve(action: string, payload: Buffer | string): Promise<RequestResponse> {
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
    this.opts.respond(action, response);
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
