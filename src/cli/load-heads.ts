import type { GearhearConfig } from '../config/index.js';
import type { ListenerHeads } from '../daemon/listener.js';
import { embeddingOptions, headsOptions } from '../daemon/wiring.js';
import { loadSiteHeads, siteHeadsPath } from '../enrol/site-heads.js';
import { loadCompiledHeads } from '../kws/compiled-heads.js';
import { SpeechEmbedding } from '../model/speech-embedding.js';
import { TermHeads } from '../model/term-heads.js';

/** Site heads in use, for a line on stderr or in info. */
export interface SiteHeadsInUse { file: string; sha256: string | null; terms: string[]; skipped: string[] }

/**
 * For model.detector = heads (else null): the speech embedding and the term heads with the
 * vocabulary's compiled ones and the site's heads (`gearhear adapt`), as the daemon builds them,
 * and how to release them.
 */
export async function loadListenerHeads(config: GearhearConfig, vocabPath: string): Promise<{ listener: ListenerHeads; site: SiteHeadsInUse; dispose: () => Promise<void> } | null> {
  if (config.model.detector !== 'heads') return null;
  const h = headsOptions(config);
  const shipped = await TermHeads.load(h.dir, h.intraOpThreads);
  try {
    const factory = shipped.withCompiled(await loadCompiledHeads(vocabPath, shipped, config.model.embedding));
    const file = siteHeadsPath(config.state.dir);
    const { site, skipped, sha256 } = await loadSiteHeads(file, factory, config.model.embedding);
    const heads = site.length > 0 ? factory.withSite(site) : factory;
    const embedding = await SpeechEmbedding.load(await embeddingOptions(h));
    return { listener: { embedding, heads, scorePivot: h.scorePivot, patienceHops: h.patienceHops }, site: { file, sha256, terms: site.map((s) => s.term), skipped }, dispose: async () => { await embedding.dispose(); await shipped.dispose(); } };
  } catch (err) {
    await shipped.dispose();
    throw err;
  }
}
