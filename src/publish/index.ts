export { MqttPublisher } from './publisher.js';
export { Outbox, type OutboxOptions, type OutboxRecord } from './outbox.js';
export { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.js';
export { TOPICS, DeviceTopics, type TopicName, type TopicSpec } from './topics.js';
export { DEFAULT_HEALTH_SENSORS } from './discovery.js';
export * from './types.js';
