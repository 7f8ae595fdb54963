/**
 * The MQTT contract as a typed table: every topic gearhear publishes or subscribes to,
 * with its QoS, retain flag and schema (in schemas/). Topics live under `<base>/<deviceId>`.
 */
export interface TopicSpec {
  /** Suffix after `<base>/<deviceId>/`. `+` stands for one level filled in at publish time. */
  suffix: string;
  qos: 0 | 1;
  retain: boolean;
  /** File name in schemas/. */
  schema: string;
  payload: 'text' | 'json';
}

export const TOPICS = {
  status: { suffix: 'status', qos: 1, retain: true, schema: 'status.schema.json', payload: 'text' },
  info: { suffix: 'info', qos: 1, retain: true, schema: 'info.schema.json', payload: 'json' },
  detection: { suffix: 'detection', qos: 1, retain: false, schema: 'detection.schema.json', payload: 'json' },
  fault: { suffix: 'fault/+', qos: 1, retain: true, schema: 'fault.schema.json', payload: 'text' },
  health: { suffix: 'health', qos: 0, retain: true, schema: 'health.schema.json', payload: 'json' },
  error: { suffix: 'error', qos: 1, retain: false, schema: 'error.schema.json', payload: 'json' },
  /** Subscribed: `request/<action>` (Zigbee2MQTT's `bridge/request` convention). */
  request: { suffix: 'request/+', qos: 1, retain: false, schema: 'request.schema.json', payload: 'json' },
  /** The answer to each request, on `response/<action>`, with the request's `transaction`. */
  response: { suffix: 'response/+', qos: 1, retain: false, schema: 'response.schema.json', payload: 'json' },
} as const satisfies Record<string, TopicSpec>;

export type TopicName = keyof typeof TOPICS;

export const STATUS_ONLINE = 'online';
export const STATUS_OFFLINE = 'offline';
export const FAULT_ON = 'ON';
export const FAULT_OFF = 'OFF';

/** A topic level that is safe to put in a topic: no wildcards or separators. */
export function topicLevel(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Builds the concrete topics of one device. */
export class DeviceTopics {
  readonly root: string;
  constructor(baseTopic: string, deviceId: string) {
    if (!baseTopic || /[+#]/.test(baseTopic) || baseTopic.endsWith('/')) {
      throw new Error(`MQTT base topic "${baseTopic}" is invalid: use levels without '+', '#' or a trailing '/'`);
    }
    if (!deviceId || /[+#/]/.test(deviceId)) {
      throw new Error(`device id "${deviceId}" cannot be used in an MQTT topic: avoid '/', '+' and '#'`);
    }
    this.root = `${baseTopic}/${deviceId}`;
  }
  get status(): string { return `${this.root}/${TOPICS.status.suffix}`; }
  get info(): string { return `${this.root}/${TOPICS.info.suffix}`; }
  get detection(): string { return `${this.root}/${TOPICS.detection.suffix}`; }
  get health(): string { return `${this.root}/${TOPICS.health.suffix}`; }
  get error(): string { return `${this.root}/${TOPICS.error.suffix}`; }
  fault(category: string): string { return `${this.root}/fault/${topicLevel(category)}`; }
  /** The filter the device subscribes to for requests. */
  get requests(): string { return `${this.root}/request/+`; }
  /** The action of a request topic, or null when the topic is not one. */
  requestAction(topic: string): string | null {
    const prefix = `${this.root}/request/`;
    return topic.startsWith(prefix) && topic.length > prefix.length && !topic.slice(prefix.length).includes('/') ? topic.slice(prefix.length) : null;
  }
  request(action: string): string { return `${this.root}/request/${topicLevel(action)}`; }
  response(action: string): string { return `${this.root}/response/${topicLevel(action)}`; }
}

/** Home Assistant discovery topics (`<prefix>/<component>/<node>/<object>/config`). */
export function discoveryTopic(prefix: string, component: string, deviceId: string, objectId: string): string {
  return `${prefix}/${component}/${topicLevel(deviceId)}/${topicLevel(objectId)}/config`;
}

/** Home Assistant announces `online` here when it (re)starts; discovery is republished then. */
export function haStatusTopic(prefix: string): string {
  return `${prefix}/status`;
}
