/**
 * The composition root: pure functions from the validated configuration to each stage's options.
 * `run` (the daemon), `detect` and `doctor` all build their parts from these, so the defaults live
 * in the config schema alone and the three commands cannot disagree about how a part is made.
 */
import type { AudioSourceFactoryOptions } from '../audio/index.js';
import type { GearhearConfig } from '../config/types.js';
import type { EvidenceOptions } from '../evidence/evidence.js';
import type { ResolveDefaults } from '../kws/lexicon.js';
import type { KeywordSearchOptions } from '../kws/search.js';
import type { Logger } from '../log.js';
import type { ModelOptions } from '../model/onnx-model.js';
import type { PhoneModelOptions } from '../model/phone-model.js';
import { embeddingFileFor, type SpeechEmbedding, type SpeechEmbeddingOptions } from '../model/speech-embedding.js';
import type { PublisherOptions } from '../publish/types.js';
import type { GateOptions } from '../vad/index.js';

export function modelOptions(c: GearhearConfig): ModelOptions {
  return { dir: c.model.dir, variant: c.model.variant, intraOpThreads: c.model.intraOpThreads, chunkMs: c.model.chunkMs, streaming: c.model.streaming };
}

/** The phone model for model.phones; `embedding`: Google's speech embedding when the heads already loaded it. */
export function phoneModelOptions(c: GearhearConfig, embedding?: SpeechEmbedding): PhoneModelOptions {
  return { kind: c.model.phones, kws: modelOptions(c), embeddingDir: c.model.embeddingPhonesDir, embedding: c.model.embedding === 'google' ? embedding : undefined };
}

/** The term heads and the speech embedding they stand on (model.detector = heads). */
export function headsOptions(c: GearhearConfig): { dir: string; intraOpThreads: number; scorePivot: number; patienceHops: number; embedding: GearhearConfig['model']['embedding'] } {
  return { dir: c.model.headsDir, intraOpThreads: c.model.intraOpThreads, scorePivot: c.model.headsThreshold, patienceHops: c.model.headsPatience, embedding: c.model.embedding };
}

/** The speech embedding's load options for model.embedding (the student's file checked against its manifest). */
export async function embeddingOptions(h: { intraOpThreads: number; embedding: GearhearConfig['model']['embedding'] }): Promise<SpeechEmbeddingOptions> {
  return { intraOpThreads: h.intraOpThreads, embeddingFile: await embeddingFileFor(h.embedding) };
}

/** Threshold and boost of vocabulary terms that set none. */
export function keywordDefaults(c: GearhearConfig): ResolveDefaults {
  return { threshold: c.kws.threshold, boost: c.kws.boost };
}

export function gateOptions(c: GearhearConfig, logger?: Logger): Partial<GateOptions> {
  return {
    engine: c.vad.engine, threshold: c.vad.threshold, preRollMs: c.vad.preRollMs, hangoverMs: c.vad.hangoverMs,
    minSpeechMs: c.vad.minSegmentMs, maxSegmentMs: c.vad.maxSegmentMs, energyMarginDb: c.vad.energyMarginDb,
    energyMinLevelDb: c.vad.minLevelDbfs, sileroSpeechStride: c.vad.sileroSpeechStride, logger,
  };
}

export function searchOptions(c: GearhearConfig): Partial<KeywordSearchOptions> {
  return { refractorySec: c.kws.refractoryMs / 1000 };
}

/** The audio source spec: a plain `mic` uses audio.device; `mic:<device>` names its own. */
export function audioSourceSpec(c: GearhearConfig): string {
  return c.audio.source.trim() === 'mic' && c.audio.device !== 'default' ? `mic:${c.audio.device}` : c.audio.source;
}

export function audioSourceOptions(c: GearhearConfig, logger: Logger): AudioSourceFactoryOptions {
  return {
    mic: { restartMaxDelayMs: c.audio.restartMaxDelayMs, stallTimeoutMs: c.audio.watchdogMs, logger },
    file: { pace: c.audio.pace },
  };
}

export function publisherOptions(c: GearhearConfig, logger: Logger): PublisherOptions {
  return {
    url: c.mqtt.url, embeddedPort: c.mqtt.embeddedPort, baseTopic: c.mqtt.baseTopic, deviceId: c.device.id,
    siteId: c.device.siteId || undefined, clientId: c.mqtt.clientId || undefined, username: c.mqtt.username || undefined,
    password: c.mqtt.password || undefined,
    tls: { caFile: c.mqtt.ca || undefined, certFile: c.mqtt.cert || undefined, keyFile: c.mqtt.key || undefined, rejectUnauthorized: c.mqtt.rejectUnauthorized },
    stateDir: c.state.dir, outbox: { maxBytes: c.outbox.maxBytes, maxAgeMs: c.outbox.maxAgeH * 3600_000 },
    faultQuietMs: c.mqtt.faultOffAfterS * 1000, faultCategories: c.mqtt.faultCategories,
    homeAssistant: { enabled: c.mqtt.homeAssistant.enabled, discoveryPrefix: c.mqtt.homeAssistant.prefix },
    keepaliveSec: c.mqtt.keepaliveS, persistentSession: c.mqtt.persistentSession, logger,
  };
}

/** The evidence clips (evidence.enabled): the store's bounds and how far back the recorder keeps audio. */
export function evidenceOptions(c: GearhearConfig, logger: Logger): EvidenceOptions {
  return {
    stateDir: c.state.dir, deviceId: c.device.id, preRollMs: c.evidence.preRollMs, postRollMs: c.evidence.postRollMs,
    maxClips: c.evidence.maxClips, maxBytes: c.evidence.maxBytes, maxAgeMs: c.evidence.maxAgeH * 3600_000,
    maxResponseBytes: c.evidence.maxResponseBytes, logger,
    // A term is reported at the latest when its segment ends: a whole segment, its pre-roll and hangover, and a chunk.
    historyMs: c.vad.maxSegmentMs + c.vad.preRollMs + c.vad.hangoverMs + c.model.chunkMs + 1000,
  };
}
