import { discoveryTopic, topicLevel, FAULT_OFF, FAULT_ON, STATUS_OFFLINE, STATUS_ONLINE, type DeviceTopics } from './topics.js';
import type { HealthSensorSpec } from './types.js';

export interface DiscoveryInput {
  prefix: string;
  deviceId: string;
  deviceName: string;
  siteId?: string;
  swVersion?: string;
  topics: DeviceTopics;
  categories: string[];
  healthSensors: HealthSensorSpec[];
  /** Buttons that mark the last detection false or correct (evidence.enabled). */
  feedbackButtons?: boolean;
  /** A button that sends `request/adapt` (site heads from the enrolled takes; model.detector = heads). */
  adaptButton?: boolean;
}

export interface DiscoveryMessage {
  topic: string;
  config: Record<string, unknown>;
}

/** Diagnostic sensors every device gets; fields the publisher itself adds to the health payload. */
export const DEFAULT_HEALTH_SENSORS: HealthSensorSpec[] = [
  { key: 'uptimeSec', name: 'Uptime', unit: 's', deviceClass: 'duration', stateClass: 'measurement' },
  { key: 'outbox.depth', name: 'Outbox depth', stateClass: 'measurement' },
  { key: 'outbox.dropped', name: 'Outbox dropped', stateClass: 'total_increasing' },
];

function valueTemplate(key: string): string {
  return `{{ value_json${key.split('.').map((k) => `[${JSON.stringify(k)}]`).join('')} }}`.replace(/"/g, "'");
}

/**
 * Home Assistant MQTT discovery: one event entity for detections (event_type = category),
 * one problem binary_sensor per fault category, and diagnostic sensors read from `health`.
 * Every entity is unavailable while `status` is `offline`.
 */
export function buildDiscovery(input: DiscoveryInput): DiscoveryMessage[] {
  const id = topicLevel(input.deviceId);
  const device: Record<string, unknown> = {
    identifiers: [`gearhear_${id}`],
    name: input.deviceName,
    manufacturer: 'gearhear',
    model: 'gearhear edge listener',
  };
  if (input.swVersion) device.sw_version = input.swVersion;
  if (input.siteId) device.suggested_area = input.siteId;
  const common = {
    device,
    origin: { name: 'gearhear', sw_version: input.swVersion ?? 'unknown' },
    availability_topic: input.topics.status,
    payload_available: STATUS_ONLINE,
    payload_not_available: STATUS_OFFLINE,
    // HA subscribes at QoS 0 unless told: detections would then reach it at most once.
    qos: 1,
  };
  const out: DiscoveryMessage[] = [];
  out.push({
    topic: discoveryTopic(input.prefix, 'event', id, 'detection'),
    config: {
      ...common,
      name: 'Detection',
      unique_id: `gearhear_${id}_detection`,
      state_topic: input.topics.detection,
      // HA needs at least one event type; categories normally come from the vocabulary.
      event_types: input.categories.length > 0 ? [...new Set(input.categories)].sort() : ['detection'],
      icon: 'mdi:ear-hearing',
    },
  });
  for (const category of [...new Set(input.categories)].sort()) {
    const object = `fault_${topicLevel(category)}`;
    out.push({
      topic: discoveryTopic(input.prefix, 'binary_sensor', id, object),
      config: {
        ...common,
        name: `Fault ${category}`,
        unique_id: `gearhear_${id}_${object}`,
        state_topic: input.topics.fault(category),
        payload_on: FAULT_ON,
        payload_off: FAULT_OFF,
        device_class: 'problem',
      },
    });
  }
  for (const sensor of input.healthSensors) {
    const object = `health_${topicLevel(sensor.key)}`;
    const config: Record<string, unknown> = {
      ...common,
      name: sensor.name,
      unique_id: `gearhear_${id}_${object}`,
      state_topic: input.topics.health,
      value_template: valueTemplate(sensor.key),
      entity_category: 'diagnostic',
    };
    if (sensor.unit) config.unit_of_measurement = sensor.unit;
    if (sensor.deviceClass) config.device_class = sensor.deviceClass;
    if (sensor.stateClass) config.state_class = sensor.stateClass;
    out.push({ topic: discoveryTopic(input.prefix, 'sensor', id, object), config });
  }
  if (input.feedbackButtons) {
    const buttons = [
      { object: 'feedback_false', name: 'Last detection was a false alarm', verdict: 'false', icon: 'mdi:thumb-down' },
      { object: 'feedback_true', name: 'Last detection was right', verdict: 'true', icon: 'mdi:thumb-up' },
    ];
    for (const b of buttons) {
      out.push({
        topic: discoveryTopic(input.prefix, 'button', id, b.object),
        config: {
          ...common,
          name: b.name,
          unique_id: `gearhear_${id}_${b.object}`,
          command_topic: input.topics.request('feedback'),
          payload_press: JSON.stringify({ detection: 'last', verdict: b.verdict, transaction: `ha-${b.object}` }),
          icon: b.icon,
        },
      });
    }
  }
  if (input.adaptButton) {
    out.push({
      topic: discoveryTopic(input.prefix, 'button', id, 'adapt'),
      config: {
        ...common,
        name: 'Adapt to the enrolled voices',
        unique_id: `gearhear_${id}_adapt`,
        command_topic: input.topics.request('adapt'),
        payload_press: JSON.stringify({ transaction: 'ha-adapt' }),
        icon: 'mdi:account-voice',
      },
    });
  }
  return out;
}
