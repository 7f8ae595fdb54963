/** The composition root: every stage's options come from the configuration, nothing else. */
import t from 'tap';
import { GATE_DEFAULTS } from '../../src/vad/index.js';
import { KEYWORD_SEARCH_DEFAULTS } from '../../src/kws/search.js';
import { MIC_DEFAULTS } from '../../src/audio/index.js';
import { silentLogger } from '../../src/log.js';
import {
  audioSourceOptions, audioSourceSpec, gateOptions, keywordDefaults, modelOptions, publisherOptions, searchOptions,
} from '../../src/daemon/wiring.js';
import { load } from '../config/helpers.js';

const env = {
  GEARHEAR_VAD_ENGINE: 'energy', GEARHEAR_VAD_THRESHOLD: '0.6', GEARHEAR_VAD_PRE_ROLL_MS: '200', GEARHEAR_VAD_HANGOVER_MS: '400',
  GEARHEAR_VAD_MIN_SEGMENT_MS: '120', GEARHEAR_VAD_MAX_SEGMENT_MS: '8000', GEARHEAR_VAD_ENERGY_MARGIN_DB: '9',
  GEARHEAR_VAD_MIN_LEVEL_DBFS: '-50', GEARHEAR_VAD_SILERO_SPEECH_STRIDE: '2',
  GEARHEAR_MODEL_VARIANT: 'fp32', GEARHEAR_MODEL_INTRA_OP_THREADS: '2', GEARHEAR_MODEL_CHUNK_MS: '400', GEARHEAR_MODEL_STREAMING: 'recompute',
  GEARHEAR_KWS_THRESHOLD: '0.7', GEARHEAR_KWS_BOOST: '1.5', GEARHEAR_KWS_REFRACTORY_MS: '2500',
  GEARHEAR_AUDIO_DEVICE: 'plughw:CARD=Device', GEARHEAR_AUDIO_WATCHDOG_MS: '7000', GEARHEAR_AUDIO_RESTART_MAX_DELAY_MS: '9000',
  GEARHEAR_MQTT_URL: 'mqtts://broker.example:8883', GEARHEAR_MQTT_CLIENT_ID: 'press-7', GEARHEAR_MQTT_KEEPALIVE_S: '45',
  GEARHEAR_OUTBOX_MAX_AGE_H: '2', GEARHEAR_MQTT_FAULT_OFF_AFTER_S: '60', GEARHEAR_SITE_ID: 'plant-3',
};

t.test('each stage gets what the configuration says', async (t) => {
  const c = load({ env }).config;
  t.match(gateOptions(c), {
    engine: 'energy', threshold: 0.6, preRollMs: 200, hangoverMs: 400, minSpeechMs: 120, maxSegmentMs: 8000,
    energyMarginDb: 9, energyMinLevelDb: -50, sileroSpeechStride: 2,
  });
  t.match(modelOptions(c), { variant: 'fp32', intraOpThreads: 2, chunkMs: 400, streaming: 'recompute' });
  t.same(keywordDefaults(c), { threshold: 0.7, boost: 1.5 });
  t.same(searchOptions(c), { refractorySec: 2.5 });
  t.equal(audioSourceSpec(c), 'mic:plughw:CARD=Device', 'a plain mic uses audio.device');
  t.match(audioSourceOptions(c, silentLogger).mic, { stallTimeoutMs: 7000, restartMaxDelayMs: 9000 });
  t.match(publisherOptions(c, silentLogger), {
    url: 'mqtts://broker.example:8883', clientId: 'press-7', keepaliveSec: 45, siteId: 'plant-3',
    outbox: { maxAgeMs: 2 * 3600_000 }, faultQuietMs: 60_000,
  });
});

t.test('schema defaults agree with the defaults stages fall back to when built without a config', async (t) => {
  // The stages still have defaults of their own for library use; run, detect and doctor never rely on them.
  const c = load().config;
  const gate = gateOptions(c);
  for (const key of Object.keys(gate) as Array<keyof typeof gate>) {
    if (key === 'logger') continue;
    t.equal(gate[key], GATE_DEFAULTS[key as keyof typeof GATE_DEFAULTS], `vad: ${key}`);
  }
  t.equal(searchOptions(c).refractorySec, KEYWORD_SEARCH_DEFAULTS.refractorySec, 'kws: refractory');
  t.match(audioSourceOptions(c, silentLogger).mic, { stallTimeoutMs: MIC_DEFAULTS.stallTimeoutMs, restartMaxDelayMs: MIC_DEFAULTS.restartMaxDelayMs });
});
