#!/usr/bin/env node
// A fleet consumer: reads every device's detections from the central broker (MQTT 5) and prints
// each one once, as a JSON line. Start several with the same GROUP and the broker shares the
// detections among them (`$share/GROUP/...`); each still dedupes by `id`, since delivery is at
// least once. Usage: node consumer.mjs mqtt://central:1883 [GROUP] [BASE_TOPIC]
import mqtt from 'mqtt';

const [url = 'mqtt://127.0.0.1:1883', group = 'gearhear-consumers', base = 'gearhear'] = process.argv.slice(2);
/** Ids seen recently; a replay comes within the outbox's age bound, so a bounded memory suffices. */
const MAX_REMEMBERED = 100_000;
const seen = new Set();

const client = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 1000 });
client.on('connect', () => {
  client.subscribe(`$share/${group}/${base}/+/detection`, { qos: 1 }, (err) => {
    if (err) console.error(`cannot subscribe: ${err.message}`);
    else console.error('subscribed');
  });
});
client.on('message', (_topic, payload) => {
  let d;
  try { d = JSON.parse(payload.toString()); } catch { return; }
  if (typeof d?.id !== 'string' || seen.has(d.id)) return;
  seen.add(d.id);
  if (seen.size > MAX_REMEMBERED) seen.delete(seen.values().next().value);
  process.stdout.write(`${JSON.stringify(d)}\n`);
});
client.on('error', (err) => console.error(`mqtt: ${err.message}`));
process.on('SIGTERM', () => client.end(false, {}, () => process.exit(0)));
