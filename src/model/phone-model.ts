import { EmbeddingPhoneModel } from './embedding-phones.js';
import { PairedPhoneModel } from './paired-phones.js';
import { OnnxAcousticModel, type ModelOptions } from './onnx-model.js';
import type { SpeechEmbedding } from './speech-embedding.js';
import type { AcousticModel } from './types.js';

/** model.phones: which phone model feeds the keyword search. */
export const PHONE_MODEL_KINDS = ['kws', 'embedding', 'both'] as const;
export type PhoneModelKind = (typeof PHONE_MODEL_KINDS)[number];

export interface PhoneModelOptions {
  kind: PhoneModelKind;
  /** kws: the raw-audio phone model (models/gearhear-kws). */
  kws: ModelOptions;
  /** embedding: the folder of the phone head on the speech embedding (models/gearhear-embphones). */
  embeddingDir: string;
  /** Google's speech embedding already loaded (for the term heads), to share; the model loads its own otherwise. */
  embedding?: SpeechEmbedding;
}

/**
 * model.phones = both: the embedding phone head puts a phone this many 20 ms frames later than the
 * raw-audio model (the peak of their frames' agreement on real sentences;
 * test/model/paired-phones.test.ts measures it).
 */
export const BOTH_LAG_FRAMES = 10;

/** The phone model (the open-vocabulary path) and what the daemon logs about it. */
export async function loadPhoneModel(o: PhoneModelOptions): Promise<{ model: AcousticModel; about: Record<string, string> }> {
  if (o.kind === 'both') {
    const kws = await OnnxAcousticModel.load(o.kws);
    let emb: EmbeddingPhoneModel;
    try {
      emb = await EmbeddingPhoneModel.load({ dir: o.embeddingDir, embedding: o.embedding, intraOpThreads: o.kws.intraOpThreads });
    } catch (err) {
      await kws.dispose();
      throw err;
    }
    const model = new PairedPhoneModel({ a: kws, b: emb, lagFrames: BOTH_LAG_FRAMES });
    return { model, about: { phones: 'both', variant: kws.variant, embedding: emb.manifest.embedding, sharedEmbedding: String(o.embedding !== undefined) } };
  }
  if (o.kind === 'embedding') {
    const model = await EmbeddingPhoneModel.load({ dir: o.embeddingDir, embedding: o.embedding, intraOpThreads: o.kws.intraOpThreads });
    return { model, about: { phones: 'embedding', embedding: model.manifest.embedding, sharedEmbedding: String(o.embedding !== undefined) } };
  }
  const model = await OnnxAcousticModel.load(o.kws);
  return { model, about: { phones: 'kws', variant: model.variant, streaming: model.streaming } };
}

/** Frames the model gives for `pcm` streamed as one segment (doctor's "it runs" check). */
export async function framesOf(model: AcousticModel, pcm: Float32Array): Promise<number> {
  const s = model.createStream();
  const a = await s.accept(pcm);
  const b = await s.finish();
  return (a?.frames ?? 0) + (b?.frames ?? 0);
}
