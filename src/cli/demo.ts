import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { EX_CONFIG, packageRoot } from '../config/index.js';
import { createLogger } from '../log.js';
import { loadConfigOrReport, runDaemon } from './run-command.js';
import { parseCommandArgs } from './usage.js';

export const DEMO_RECORDING = 'demo/machine-room.wav';

/**
 * `gearhear demo`: the real daemon on the bundled demo recording, with an in-process MQTT
 * broker, printing what it hears and every message it publishes. Exits once all is delivered.
 */
export async function runDemo(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('demo', { args, options: { file: { type: 'string' }, realtime: { type: 'boolean' } } });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const file = path.resolve(values.file ?? path.join(packageRoot(), DEMO_RECORDING));
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'gearhear-demo-'));
  const config = loadConfigOrReport({
    set: [
      `audio.source=file:${file}`, `audio.pace=${values.realtime ? 'realtime' : 'fast'}`, 'mqtt.url=embedded',
      'mqtt.embeddedPort=0', `state.dir=${stateDir}`, 'device.id=demo', 'log.level=warn', 'health.intervalS=3600',
    ],
  });
  if (!config) return EX_CONFIG;
  process.stdout.write(`gearhear demo: listening to ${file}\n(the daemon with an embedded MQTT broker; every message it publishes is printed)\n\n`);
  let subscriber: mqtt.MqttClient | null = null;
  try {
    return await runDaemon(config, createLogger('warn'), async (daemon) => {
      const url = daemon.embeddedBrokerUrl;
      if (!url) throw new Error('demo: the embedded broker did not start');
      subscriber = await mqtt.connectAsync(url, { clientId: 'gearhear-demo-viewer', ...daemon.embeddedBrokerCredentials });
      subscriber.on('message', (topic, payload) => printMessage(topic, payload.toString()));
      await subscriber.subscribeAsync(`${config.mqtt.baseTopic}/${config.device.id}/#`, { qos: 1 });
    });
  } finally {
    await (subscriber as mqtt.MqttClient | null)?.endAsync().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  }
}

function printMessage(topic: string, payload: string): void {
  const short = topic.split('/').slice(2).join('/');
  if (short === 'detection') {
    const d = JSON.parse(payload) as { term: string; category: string; severity: string; confidence: number; start: number; end: number };
    process.stdout.write(`HEARD  "${d.term}" [${d.category}, ${d.severity}] at ${d.start.toFixed(2)}-${d.end.toFixed(2)} s, confidence ${d.confidence.toFixed(2)}\n`);
  }
  const shown = short === 'info' ? `${payload.slice(0, 160)}...` : payload;
  process.stdout.write(`  mqtt ${topic}  ${shown}\n`);
}
