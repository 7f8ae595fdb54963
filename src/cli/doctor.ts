import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createAudioSource, parseAudioSourceSpec } from '../audio/index.js';
import { blockLevelDbfs } from '../audio/level.js';
import { EX_CONFIG } from '../config/index.js';
import type { GearhearConfig } from '../config/types.js';
import { calibrationFileFor, calibrationIdentity } from '../calibration/file.js';
import { calibrationFor } from '../calibration/in-use.js';
import { loadKeywords } from '../kws/load.js';
import { redactUrl } from '../redact.js';
import { framesOf, loadPhoneModel } from '../model/phone-model.js';
import { loadListenerHeads } from './load-heads.js';
import { loadConfigOrReport } from './run-command.js';
import { parseCommandArgs } from './usage.js';
import { HEARTBEAT_FILE, HEARTBEAT_MS, type Heartbeat } from '../daemon/daemon.js';
import { audioSourceOptions, audioSourceSpec, keywordDefaults, phoneModelOptions, publisherOptions } from '../daemon/wiring.js';
import { silentLogger } from '../log.js';
import { MqttPublisher } from '../publish/publisher.js';

/** `--quick` (a container HEALTHCHECK): the running daemon's heartbeat must be this fresh. */
const STALE_MS = 6 * HEARTBEAT_MS;

const run = promisify(execFile);
const BROKER_TIMEOUT_MS = 5000;
const AUDIO_TIMEOUT_MS = 5000;

interface Check { name: string; run: (c: GearhearConfig) => Promise<string> }

const CHECKS: Check[] = [
  {
    name: 'model',
    run: async (c) => {
      const { model: m } = await loadPhoneModel(phoneModelOptions(c));
      try {
        if (await framesOf(m, new Float32Array(16000)) <= 0) throw new Error('the model produced no frames for 1 s of audio');
        return `${m.id} ${m.version} (${c.model.phones === 'kws' ? c.model.variant : c.model.phones === 'both' ? `${c.model.variant}, with the phone head on the speech embedding` : 'on the speech embedding'}), SHA-256 verified, runs`;
      } finally {
        await m.dispose();
      }
    },
  },
  {
    name: 'vocabulary',
    run: async (c) => {
      const { vocab, specs } = await loadKeywords(c.vocab.file, { defaults: keywordDefaults(c) });
      return `${c.vocab.file}: ${specs.length} terms, version ${vocab.version}, every term pronounceable`;
    },
  },
  {
    name: 'calibration',
    run: async (c) => {
      const { vocab } = await loadKeywords(c.vocab.file, { defaults: keywordDefaults(c) });
      const { model } = await loadPhoneModel(phoneModelOptions(c));
      const heads = await loadListenerHeads(c, c.vocab.file);
      try {
        const file = calibrationFileFor(c);
        const inUse = await calibrationFor(file, calibrationIdentity([model, heads?.listener.heads, heads?.listener.embedding, heads?.listener.patienceHops], vocab, c.kws.boost));
        if (inUse.error) throw new Error(inUse.error.message);
        const s = inUse.status;
        if (!s.used) return s.problem ? `${file} (factory) is not for these detectors; the vocabulary's thresholds apply` : `none at ${file}; the vocabulary's thresholds apply`;
        const uncal = s.uncalibrated.length > 0 ? `; ${s.uncalibrated.length} term(s) added or changed since use the vocabulary's thresholds (${s.uncalibrated.join(', ')}): run gearhear calibrate again` : '';
        return `${file}${inUse.factory ? ' (factory)' : ''}: ${s.terms} terms calibrated from ${s.source} (${s.audioHours} h, target ${s.targetFaPerHour} FA/h per term)${uncal}`;
      } finally {
        await heads?.dispose();
        await model.dispose();
      }
    },
  },
  {
    name: 'audio',
    run: async (c) => {
      const spec = parseAudioSourceSpec(audioSourceSpec(c));
      if (spec.kind === 'file') { await access(spec.path); return `file ${spec.path} is readable`; }
      if (spec.kind === 'stdin') return 'stdin (raw S16_LE 16 kHz mono)';
      const device = spec.device ?? 'default';
      try {
        return await captureOnce(c);
      } catch (err) {
        // Name what exists when the device is not among ALSA's PCMs (`plughw:CARD=X` is listed as `plughw:CARD=X,DEV=0`).
        const listing = await run('arecord', ['-L']).then((r) => r.stdout, () => null);
        const names = (listing ?? '').split('\n').filter((l) => l && !l.startsWith(' '));
        if (listing !== null && device !== 'default' && !names.some((n) => n === device || n.startsWith(`${device},`))) {
          throw new Error(`ALSA device "${device}" not found; arecord -L lists: ${names.slice(0, 12).join(', ') || 'no devices'}`);
        }
        throw err;
      }
    },
  },
  {
    name: 'broker',
    run: async (c) => {
      if (c.mqtt.url === 'embedded') return `embedded broker on 127.0.0.1:${c.mqtt.embeddedPort}`;
      // Built exactly as the daemon builds its publisher: URL, credentials, CA, client certificate and key.
      await new MqttPublisher(publisherOptions(c, silentLogger)).probe(BROKER_TIMEOUT_MS);
      const tls = [c.mqtt.ca && 'CA mqtt.ca', c.mqtt.cert && 'client certificate mqtt.cert'].filter(Boolean);
      return `connected to ${redactUrl(c.mqtt.url)}${tls.length ? ` (${tls.join(', ')})` : ''}`;
    },
  },
];

/**
 * Opens the microphone exactly as the daemon does (the same MicSource and arecord arguments) and
 * waits for audio: a device that is listed but cannot be opened (no sound card, busy, no permission)
 * fails here, not at the daemon's start.
 */
async function captureOnce(c: GearhearConfig): Promise<string> {
  const source = createAudioSource(audioSourceSpec(c), audioSourceOptions(c, silentLogger));
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${source.description}: no audio within ${AUDIO_TIMEOUT_MS} ms`)), AUDIO_TIMEOUT_MS);
      source.once('data', (chunk) => resolve(`${source.description} opened, audio arriving (${blockLevelDbfs(chunk.samples).toFixed(1)} dBFS)`));
      source.on('error', (err) => reject(new Error(`cannot capture from ${source.description}: ${err.message}`)));
      source.start().catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await source.stop();
  }
}

/** Is the running daemon alive and hearing audio? Reads the heartbeat it writes in the state dir. */
async function checkHeartbeat(c: GearhearConfig): Promise<string> {
  const file = path.join(c.state.dir, HEARTBEAT_FILE);
  let beat: Heartbeat;
  try {
    beat = JSON.parse(await readFile(file, 'utf8')) as Heartbeat;
  } catch (err) {
    throw new Error(`no heartbeat at ${file} (${(err as Error).message}): is the daemon running with state.dir ${c.state.dir}?`);
  }
  const age = Date.now() - Date.parse(beat.time);
  if (!(age < STALE_MS)) throw new Error(`daemon heartbeat is ${Math.round(age / 1000)} s old (pid ${beat.pid}): the daemon is stuck or gone`);
  const audioAge = beat.lastAudioAt ? Date.now() - Date.parse(beat.lastAudioAt) : Infinity;
  if (!(audioAge < STALE_MS)) throw new Error(`no audio for ${beat.lastAudioAt ? `${Math.round(audioAge / 1000)} s` : 'the whole run'} from ${beat.source ?? 'the source'}`);
  return `daemon pid ${beat.pid} alive, audio flowing from ${beat.source}`;
}

/** `gearhear doctor [--config FILE] [--quick]`: each check prints ok or what is wrong; exit 0 when all pass.
 * `--quick` only checks that the running daemon is alive and hearing audio (cheap: a container HEALTHCHECK). */
export async function runDoctor(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('doctor', { args, options: { config: { type: 'string' }, set: { type: 'string', multiple: true }, quick: { type: 'boolean' } } });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const config = loadConfigOrReport(values);
  if (!config) return EX_CONFIG;
  process.stdout.write('config: ok\n');
  let failed = 0;
  const checks = values.quick ? [{ name: 'daemon', run: checkHeartbeat }] : CHECKS;
  for (const check of checks) {
    try {
      process.stdout.write(`${check.name}: ok — ${await check.run(config)}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`${check.name}: FAILED — ${(err as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}
