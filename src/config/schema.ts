/**
 * The one configuration schema of the daemon (convict). Every key has a doc, a strict format from
 * ./formats.ts, a default and a GEARHEAR_* environment variable (balena device variables).
 * docs/configuration.md is generated from this table.
 */
import type { DurationUnit, FormatItem, FormatName } from './formats.js';

export interface KeyDef extends FormatItem {
  doc: string;
  format: FormatName;
  default: string | number | boolean | string[];
  env: string;
  sensitive?: boolean;
  /** How the default reads in the docs when it is resolved at load (e.g. from the hostname). */
  docDefault?: string;
  /** Relative paths in the default are relative to the installed package, not the working directory. */
  packageRelative?: boolean;
}

export interface SchemaTree {
  [name: string]: KeyDef | SchemaTree;
}

type Opts = Partial<Pick<KeyDef, 'sensitive' | 'docDefault' | 'packageRelative' | 'optional'>>;

const str = (env: string, def: string, doc: string, opts: Opts = {}): KeyDef => ({ format: 'gh-string', env, default: def, doc, ...opts });
const path = (env: string, def: string, doc: string, opts: Opts = {}): KeyDef => ({ format: 'gh-path', env, default: def, doc, ...opts });
const optionalPath = (env: string, doc: string): KeyDef => path(env, '', doc, { optional: true });
const num = (env: string, def: number, min: number, max: number, doc: string): KeyDef => ({ format: 'gh-number', env, default: def, min, max, doc });
const int = (env: string, def: number, min: number, max: number, doc: string): KeyDef => ({ format: 'gh-int', env, default: def, min, max, doc });
const bool = (env: string, def: boolean, doc: string): KeyDef => ({ format: 'gh-bool', env, default: def, doc });
const oneOf = (env: string, allowed: readonly string[], def: string, doc: string): KeyDef => ({ format: 'gh-enum', env, allowed, default: def, doc });
const dur = (unit: DurationUnit) => (env: string, def: number, min: number, max: number, doc: string): KeyDef => ({ format: 'gh-duration', unit, env, default: def, min, max, doc });
const ms = dur('ms');
const seconds = dur('s');
const hours = dur('h');

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

export const SCHEMA = {
  device: {
    id: { format: 'gh-topic-level', env: 'GEARHEAR_DEVICE_ID', default: '', docDefault: 'BALENA_DEVICE_UUID, else the hostname', doc: 'Device id: one MQTT topic level (`<baseTopic>/<id>/...`) and the id in every message.' },
    siteId: { format: 'gh-topic-level', env: 'GEARHEAR_SITE_ID', default: '', optional: true, doc: 'Optional site (plant, line) the device belongs to; added to detections.' },
  },
  audio: {
    source: { format: 'gh-audio-source', env: 'GEARHEAR_AUDIO_SOURCE', default: 'mic', doc: 'Where audio comes from: `mic` (the ALSA device in audio.device), `mic:<alsa device>`, `file:<path.wav>` or `stdin` (16 kHz mono s16le).' },
    device: str('GEARHEAR_AUDIO_DEVICE', 'default', 'ALSA capture device for a plain `mic` source, e.g. `plughw:CARD=Device`.'),
    pace: oneOf('GEARHEAR_AUDIO_PACE', ['realtime', 'fast'], 'realtime', 'For file sources: deliver audio at real-time speed, or as fast as it can be processed.'),
    watchdogMs: ms('GEARHEAR_AUDIO_WATCHDOG_MS', 5000, 500, 600_000, 'The recorder is restarted when no audio arrives for this long.'),
    restartMaxDelayMs: ms('GEARHEAR_AUDIO_RESTART_MAX_DELAY_MS', 30_000, 100, 3_600_000, 'Longest back-off between recorder restarts.'),
  },
  vad: {
    engine: oneOf('GEARHEAR_VAD_ENGINE', ['silero', 'energy'], 'silero', '`silero`: energy pre-gate then Silero VAD (accurate); `energy`: energy gate alone (cheapest).'),
    threshold: num('GEARHEAR_VAD_THRESHOLD', 0.5, 0, 1, 'Speech probability at which a segment opens.'),
    preRollMs: ms('GEARHEAR_VAD_PRE_ROLL_MS', 300, 0, 2000, 'Audio kept from before speech onset so the start of a word is not cut.'),
    hangoverMs: ms('GEARHEAR_VAD_HANGOVER_MS', 300, 0, 5000, 'Non-speech needed to end a segment.'),
    minSegmentMs: ms('GEARHEAR_VAD_MIN_SEGMENT_MS', 150, 0, 5000, 'Speech shorter than this is dropped.'),
    maxSegmentMs: ms('GEARHEAR_VAD_MAX_SEGMENT_MS', 10_000, 500, 60_000, 'Longer speech is cut into segments of at most this length.'),
    energyMarginDb: num('GEARHEAR_VAD_ENERGY_MARGIN_DB', 8, 0, 60, 'Energy gate: dB above the adaptive noise floor for a frame to count as possible speech.'),
    minLevelDbfs: num('GEARHEAR_VAD_MIN_LEVEL_DBFS', -55, -120, 0, 'Energy gate: quietest level (dBFS) that can count as speech.'),
    sileroSpeechStride: int('GEARHEAR_VAD_SILERO_SPEECH_STRIDE', 1, 1, 8, 'In confident speech (the energy gate hears speech and Silero\'s last probability was at or above the threshold), Silero runs on one 32 ms frame in this many and the frames between reuse its last probability. 1 runs it on every frame; 2 saves a third to a half of Silero\'s cost in speech, but segments end about a frame later and utterances with short pauses between them merge more often.'),
  },
  model: {
    dir: path('GEARHEAR_MODEL', 'models/gearhear-kws', 'Folder with model.json and the ONNX files of the phone model.', { packageRelative: true, docDefault: '`models/gearhear-kws` in the installed package' }),
    variant: oneOf('GEARHEAR_MODEL_VARIANT', ['int8', 'fp32'], 'int8', 'Which ONNX file of the model to run: quantised int8 (faster on ARM) or fp32.'),
    intraOpThreads: int('GEARHEAR_MODEL_INTRA_OP_THREADS', 1, 1, 64, 'ONNX Runtime threads for one inference.'),
    streaming: oneOf('GEARHEAR_MODEL_STREAMING', ['auto', 'cache', 'recompute'], 'auto', 'How speech streams through the model: cache (the streaming graph keeps its state, each frame computed once), recompute (the whole-segment graph re-runs its context on every chunk: use chunkMs of 500 or more), auto (cache when the model ships a streaming graph).'),
    chunkMs: dur('ms')('GEARHEAR_MODEL_CHUNK_MS', 200, 20, 5000, 'Run the model on each new this-much of speech: shorter reports terms sooner, longer costs a little less CPU per second of speech.'),
    detector: oneOf('GEARHEAR_MODEL_DETECTOR', ['heads', 'phones'], 'phones', 'How terms are detected: phones (the phone model and keyword search, for every term) or heads (term heads on the pretrained speech embedding for every term they were trained for or that `gearhear vocab compile` gave a head; the phone model for the rest). On real spoken words with context the heads miss fewer at fewer false alarms, but inside real running sentences they find almost none of the terms: see models/gearhear-heads/MODEL_CARD.md before switching.'),
    headsDir: path('GEARHEAR_MODEL_HEADS', 'models/gearhear-heads', 'Folder with heads.json and the ONNX file of the term heads.', { packageRelative: true, docDefault: '`models/gearhear-heads` in the installed package' }),
    embedding: oneOf('GEARHEAR_MODEL_EMBEDDING', ['google', 'student', 'student-int8'], 'google', 'The speech embedding under the term heads: google (Google\'s speech_embedding, as openWakeWord ships it) or our student distilled from it (models/gearhear-student: student fp32, student-int8 its INT8 weights), smaller and faster, its scores close to but not the same as Google\'s; see models/gearhear-student/MODEL_CARD.md.'),
    phones: oneOf('GEARHEAR_MODEL_PHONES', ['kws', 'embedding', 'both'], 'kws', 'Which phone model feeds the keyword search (every term without a term head): kws (model.dir: our own network on raw audio, model 0.2.1), embedding (a small recurrent phone head on Google\'s speech embedding, model.embeddingPhonesDir), or both (the two together: each scores every term and a term\'s score is the geometric mean of the two, so a false alarm needs both to mistake the same speech for the term; the CPU of both, half the terms found inside sentences, under 1 false alarm per hour with its factory calibration: README, "Both phone models"). See models/gearhear-embphones/MODEL_CARD.md for how they compare on real speech.'),
    embeddingPhonesDir: path('GEARHEAR_MODEL_EMBEDDING_PHONES', 'models/gearhear-embphones', 'Folder with model.json and the ONNX file of the phone head on the speech embedding (model.phones = embedding).', { packageRelative: true, docDefault: '`models/gearhear-embphones` in the installed package' }),
    headsThreshold: num('GEARHEAR_MODEL_HEADS_THRESHOLD', 0.95, 0, 1, 'The term-head score reported as confidence 0.5: head scores are put on the keyword scale by logit(confidence) = logit(score) - logit(this), so kws.threshold and a vocabulary line\'s threshold= mean the same for both detectors. The default was chosen on the real-speech benchmark (part A) for at most 1 false alarm per hour over the shipped vocabulary.'),
    headsPatience: int('GEARHEAR_MODEL_HEADS_PATIENCE', 3, 1, 8, 'Hops in a row (80 ms each) a term head must score at or above its threshold before the term is reported: its confidence is the lowest of its last this-many hops. A spoken term holds its score for several hops, a fluke of real speech often for one; each hop more waits 80 ms longer. 1 reports on the first hop. Measured on the real-speech benchmark in models/gearhear-heads/MODEL_CARD.md.'),
  },
  vocab: {
    file: path('GEARHEAR_VOCAB', 'vocab/mechanical-en.txt', 'Vocabulary of fault terms to listen for.', { packageRelative: true, docDefault: '`vocab/mechanical-en.txt` in the installed package' }),
  },
  kws: {
    // 0.5: one clearly wrong phone in five drops a term below it.
    threshold: num('GEARHEAR_KWS_THRESHOLD', 0.5, 0, 1, 'Keyword score a term needs to be reported.'),
    boost: num('GEARHEAR_KWS_BOOST', 0, -10, 10, 'Added to every term\'s log score: above 0 finds more terms (and more false alarms).'),
    refractoryMs: ms('GEARHEAR_KWS_REFRACTORY_MS', 1000, 0, 60_000, 'The same term is not reported again within this time.'),
  },
  calibration: {
    file: optionalPath('GEARHEAR_CALIBRATION_FILE', 'Per-term thresholds written by `gearhear calibrate`; empty: `<vocabulary>.calibration.json` beside the vocabulary file (`<vocabulary>.<model.phones>.calibration.json` first when model.phones is not kws: a calibration fits one phone model), used when it exists (the shipped vocabulary has a factory one for kws and for both). One made for another model or boost is refused (the vocabulary\'s thresholds apply); after a vocabulary edit it still applies to the terms whose line scores the same.'),
    history: bool('GEARHEAR_CALIBRATION_HISTORY', true, 'Keep a per-term histogram of the scores heard (no audio) in `<state.dir>/score-history.json` for `gearhear calibrate --from-history`; at most 1.8 KB per vocabulary term.'),
  },
  mqtt: {
    url: { format: 'gh-mqtt-url', env: 'GEARHEAR_MQTT_URL', default: 'mqtt://localhost:1883', doc: 'Broker URL (`mqtt://`, `mqtts://`, `ws://`, `wss://`), or `embedded` to run a broker inside the daemon. User-info in it (`user:password@`) is masked wherever the URL is shown or published; prefer mqtt.username and mqtt.passwordFile.' },
    embeddedPort: int('GEARHEAR_MQTT_EMBEDDED_PORT', 1883, 0, 65_535, 'Port of the embedded broker on 127.0.0.1 (0: any free port). It admits one account, generated into `<state.dir>/embedded-broker.json` (docs/mqtt.md).'),
    baseTopic: { format: 'gh-topic-prefix', env: 'GEARHEAR_MQTT_BASE_TOPIC', default: 'gearhear', doc: 'Topic prefix: topics are `<baseTopic>/<device.id>/...`.' },
    clientId: str('GEARHEAR_MQTT_CLIENT_ID', '', 'MQTT client id; empty: `gearhear-<device.id>`.', { optional: true }),
    username: str('GEARHEAR_MQTT_USERNAME', '', 'Broker user name; empty: none.', { optional: true }),
    password: str('GEARHEAR_MQTT_PASSWORD', '', 'Broker password (masked in `gearhear config print`, never logged). Prefer mqtt.passwordFile.', { optional: true, sensitive: true }),
    passwordFile: optionalPath('GEARHEAR_MQTT_PASSWORD_FILE', 'File holding the broker password (trailing newline ignored); do not set mqtt.password as well.'),
    ca: optionalPath('GEARHEAR_MQTT_CA', 'PEM file of the CA that signed the broker\'s certificate.'),
    cert: optionalPath('GEARHEAR_MQTT_CERT', 'PEM client certificate, for brokers that require one.'),
    key: optionalPath('GEARHEAR_MQTT_KEY', 'PEM private key of the client certificate.'),
    rejectUnauthorized: bool('GEARHEAR_MQTT_REJECT_UNAUTHORIZED', true, 'Verify the broker\'s TLS certificate. Turn off only for testing.'),
    keepaliveS: seconds('GEARHEAR_MQTT_KEEPALIVE_S', 30, 0, 65_535, 'MQTT keepalive (0: off).'),
    persistentSession: bool('GEARHEAR_MQTT_PERSISTENT_SESSION', false, 'Connect with a persistent session (clean=false) under the fixed client id (mqtt.clientId, else `gearhear-<device.id>`): the broker keeps the `request/+` subscription and queues QoS 1 requests sent while the device is away, to be answered when it is back.'),
    homeAssistant: {
      enabled: bool('GEARHEAR_MQTT_HOME_ASSISTANT_ENABLED', false, 'Publish Home Assistant MQTT discovery messages.'),
      prefix: { format: 'gh-topic-prefix', env: 'GEARHEAR_MQTT_HOME_ASSISTANT_PREFIX', default: 'homeassistant', doc: 'Home Assistant discovery prefix.' },
    },
    faultOffAfterS: seconds('GEARHEAR_MQTT_FAULT_OFF_AFTER_S', 300, 1, 86_400, 'A fault category goes back to OFF after this long without a detection.'),
    faultCategories: { format: 'gh-list', env: 'GEARHEAR_MQTT_FAULT_CATEGORIES', default: [], doc: 'Fault categories announced (and OFF) before any is heard, besides those in the vocabulary.' },
    drainTimeoutMs: ms('GEARHEAR_MQTT_DRAIN_TIMEOUT_MS', 10_000, 0, 120_000, 'On shutdown, wait this long for queued messages to reach the broker.'),
  },
  state: {
    dir: path('GEARHEAR_STATE_DIR', '/var/lib/gearhear', 'Writable folder for the outbox and sequence numbers (systemd StateDirectory, balena volume).'),
  },
  outbox: {
    maxBytes: { format: 'gh-bytes', env: 'GEARHEAR_OUTBOX_MAX_BYTES', default: 50_000_000, min: 10_000, max: 100_000_000_000, doc: 'Oldest unacknowledged detections are dropped beyond this size.' },
    maxAgeH: hours('GEARHEAR_OUTBOX_MAX_AGE_H', 168, 0.01, 8760, 'Unacknowledged detections older than this are dropped.'),
  },
  evidence: {
    enabled: bool('GEARHEAR_EVIDENCE_ENABLED', false, 'Keep an audio clip (WAV) of every detection in `<state.dir>/evidence`. Off by default: clips record workplace speech (see the README\'s privacy note).'),
    preRollMs: ms('GEARHEAR_EVIDENCE_PRE_ROLL_MS', 1000, 0, 5000, 'Audio kept before the term\'s start.'),
    postRollMs: ms('GEARHEAR_EVIDENCE_POST_ROLL_MS', 500, 0, 5000, 'Audio kept after the term\'s end.'),
    maxClips: int('GEARHEAR_EVIDENCE_MAX_CLIPS', 500, 1, 100_000, 'At most this many clips; beyond, the oldest clip without a verdict is deleted.'),
    maxBytes: { format: 'gh-bytes', env: 'GEARHEAR_EVIDENCE_MAX_BYTES', default: 50_000_000, min: 1_000_000, max: 100_000_000_000, doc: 'At most this many bytes of clips; beyond, the oldest clip without a verdict is deleted.' },
    maxAgeH: hours('GEARHEAR_EVIDENCE_MAX_AGE_H', 168, 0.01, 8760, 'Clips older than this are deleted, with or without a verdict.'),
    maxResponseBytes: { format: 'gh-bytes', env: 'GEARHEAR_EVIDENCE_MAX_RESPONSE_BYTES', default: 262_144, min: 1024, max: 100_000_000, doc: '`request/clip` refuses clips whose WAV is larger than this (the response carries it base64-encoded, a third larger).' },
  },
  enrolment: {
    maxTakesPerTerm: int('GEARHEAR_ENROLMENT_MAX_TAKES_PER_TERM', 20, 3, 1000, 'At most this many enrolment takes per term are kept in `<state.dir>/enrolment` (`gearhear enroll`); beyond, the oldest is deleted.'),
    maxAgeH: hours('GEARHEAR_ENROLMENT_MAX_AGE_H', 8760, 1, 87_600, 'Enrolment takes older than this are deleted (they record a person\'s voice: see the README\'s privacy note).'),
    minTakes: int('GEARHEAR_ENROLMENT_MIN_TAKES', 3, 2, 100, '`gearhear adapt` refits a term\'s head only with at least this many takes (and `true` evidence clips) of it.'),
    targetFaPerHour: num('GEARHEAR_ENROLMENT_TARGET_FA_PER_HOUR', 1, 0, 100, '`gearhear adapt` refuses a site head that raises more false alarms per hour than this (or than the factory head, if more) on the negatives held out from fitting.'),
  },
  health: {
    intervalS: seconds('GEARHEAR_HEALTH_INTERVAL_S', 60, 1, 86_400, 'How often the health sample is taken and published.'),
    memoryBudgetMb: int('GEARHEAR_HEALTH_MEMORY_BUDGET_MB', 300, 32, 65_536, 'Resident memory budget: 80% warns, 90% sheds optional work, above it the daemon exits for a clean restart.'),
  },
  log: {
    level: oneOf('GEARHEAR_LOG_LEVEL', LOG_LEVELS, 'info', 'Least severe log level written.'),
  },
} satisfies SchemaTree;

export function isKeyDef(node: KeyDef | SchemaTree): node is KeyDef {
  return typeof (node as KeyDef).format === 'string' && 'default' in node;
}

/** Every key of the schema as [dotted key, definition], in schema order. */
export function schemaKeys(tree: SchemaTree = SCHEMA, prefix = ''): Array<[string, KeyDef]> {
  return Object.entries(tree).flatMap(([name, node]): Array<[string, KeyDef]> =>
    isKeyDef(node) ? [[prefix + name, node]] : schemaKeys(node, `${prefix}${name}.`),
  );
}
