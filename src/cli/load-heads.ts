import type { GearhearConfig } from '../config/index.js';
import type { ListenerHeads } from '../daemon/listener.js';
import { embeddingOptions, headsOptions } from '../daemon/wiring.js';
import { loadCompiledHeads } from '../kws/compiled-heads.js';
import { SpeechEmbedding } from '../model/speech-embedding.js';
import { TermHeads } from '../model/term-heads.js';

/**
 * For model.detector = heads (else null): the speech embedding and the term heads with the
 * vocabulary's compiled ones, as the daemon builds them, and how to release them.
 */
export async function loadListenerHeads(config: GearhearConfig, vocabPath: string): Promise<{ listener: ListenerHeads; dispose: () => Promise<void> } | null> {
  if (config.model.detector !== 'heads') return null;
  const h = headsOptions(config);
  const shipped = await TermHeads.load(h.dir, h.intraOpThreads);
  try {
    const heads = shipped.withCompiled(await loadCompiledHeads(vocabPath, shipped, config.model.embedding));
    const embedding = await SpeechEmbedding.load(await embeddingOptions(h));
    return { listener: { embedding, heads, scorePivot: h.scorePivot, patienceHops: h.patienceHops }, dispose: async () => { await embedding.dispose(); await shipped.dispose(); } };
  } catch (err) {
    await shipped.dispose();
    throw err;
  }
}
