/** Home Assistant discovery: with model.detector = heads, a button that sends a valid request/adapt. */
import t from 'tap';
import { buildDiscovery, DEFAULT_HEALTH_SENSORS } from '../../src/publish/discovery.js';
import { DeviceTopics } from '../../src/publish/topics.js';
import { loadSchemas } from '../publish/helpers.js';

t.test('an adapt button, only when asked for', async (t) => {
  const validate = await loadSchemas();
  const input = { prefix: 'homeassistant', deviceId: 'dev1', deviceName: 'gearhear dev1', topics: new DeviceTopics('gearhear', 'dev1'), categories: ['bearing'], healthSensors: DEFAULT_HEALTH_SENSORS };
  const buttons = buildDiscovery({ ...input, adaptButton: true }).filter((m) => m.topic.startsWith('homeassistant/button/'));
  t.same(buttons.map((m) => m.topic), ['homeassistant/button/dev1/adapt/config']);
  const b = buttons[0]!;
  t.equal(validate('ha-discovery.schema.json', b.config), null, 'matches ha-discovery.schema.json');
  t.equal(b.config.command_topic, 'gearhear/dev1/request/adapt');
  t.equal(validate('request.schema.json', JSON.parse(b.config.payload_press as string)), null, 'its payload is a valid request');
  t.equal(b.config.qos, 1);
  t.equal(buildDiscovery(input).filter((m) => m.topic.includes('/button/')).length, 0, 'none without it');
});
