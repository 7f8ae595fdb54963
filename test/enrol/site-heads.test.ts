/**
 * Site heads on the real shipped term heads: a site head replaces only its term's column, stacked on
 * the factory score; loading refuses a file for other heads and skips a term whose factory head changed.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { factoryHeadSha256, loadSiteHeads, SITE_HEADS_FORMAT, SiteHeadsError, type SiteHeadsFile } from '../../src/enrol/site-heads.js';
import { TermHeads } from '../../src/model/term-heads.js';
import { repoRoot, tempDir } from '../fixtures/gearhear-cli.js';

const heads = await TermHeads.load(path.join(repoRoot, 'models/gearhear-heads'));
t.teardown(() => heads.dispose());
const dim = (await heads.run(new Float32Array(heads.manifest.window * heads.manifest.dim), 1)).featureDim;
const windows = Float32Array.from({ length: 2 * heads.manifest.window * heads.manifest.dim }, (_, i) => Math.sin(i / 7));

t.test('a site head replaces its term column only', async (t) => {
  const factory = await heads.score(windows, 2), col = heads.termIndex.get('stop')!, n = heads.terms.length;
  const same = heads.withSite([{ term: 'stop', weights: new Float32Array(dim), baseWeight: 1, bias: 0 }]);
  const s1 = await same.score(windows, 2);
  for (let i = 0; i < 2; i++) t.ok(Math.abs(s1[i * n + col]! - factory[i * n + col]!) < 1e-5, 'weight 1 on the factory logit, nothing else: the factory score');
  const loud = heads.withSite([{ term: 'stop', weights: new Float32Array(dim), baseWeight: 0, bias: 20 }]);
  const s2 = await loud.score(windows, 2);
  t.ok(s2[col]! > 0.999 && s2[n + col]! > 0.999, 'bias 20: the stop column is ~1');
  t.same(Array.from(s2).filter((_, i) => i % n !== col), Array.from(factory).filter((_, i) => i % n !== col), 'every other column as before');
  t.not(loud.sha256, heads.sha256, 'the detector identity changes (a calibration for the factory heads no longer applies)');
  t.same(loud.siteTerms, ['stop']);
  t.throws(() => heads.withSite([{ term: 'no such term', weights: new Float32Array(dim), baseWeight: 1, bias: 0 }]), /no such term/);
});

t.test('loading: other heads refused, a changed factory head skipped', async (t) => {
  const dir = await tempDir(t, 'gearhear-site-heads-');
  const file = path.join(dir, 'site-heads.json');
  const entry = (term: string, baseSha256: string) => ({
    term, baseSha256, bias: 1, baseWeight: 1, weights: Array.from({ length: dim }, () => 0), takes: 3, speakers: ['a'], trueClips: 0, falseClips: 0,
    positives: 96, negatives: 100, seconds: 1, adaptedAt: '2026-12-07T00:00:00Z',
    guard: { heldOutTakes: 1, recallBefore: 0, recallAfter: 1, negativeHours: 0.128, faPerHourBefore: 0, faPerHourAfter: 0, takesRank: 0 },
  });
  const f: SiteHeadsFile = {
    format: SITE_HEADS_FORMAT, heads: { id: heads.manifest.id, version: heads.manifest.version, sha256: heads.manifest.sha256 }, embedding: 'google', scorePivot: 0.95,
    featureDim: dim, terms: [entry('stop', factoryHeadSha256(heads, 'stop')), entry('left', 'not-the-factory-head')],
  };
  await writeFile(file, JSON.stringify(f));
  const r = await loadSiteHeads(file, heads, 'google');
  t.same(r.site.map((s) => s.term), ['stop']);
  t.same(r.skipped, ['left'], 'a site head whose factory head changed is skipped');
  t.match(r.sha256, /^[0-9a-f]{64}$/);
  await writeFile(file, JSON.stringify({ ...f, heads: { ...f.heads, sha256: '0'.repeat(64) } }));
  await t.rejects(loadSiteHeads(file, heads, 'google'), SiteHeadsError, 'made for other heads: refused');
  t.same(await loadSiteHeads(path.join(dir, 'missing.json'), heads, 'google'), { site: [], skipped: [], sha256: null }, 'no file: the factory heads');
});
