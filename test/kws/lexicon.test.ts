import t, { type Test } from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isPhone, type Phone } from '../../src/model/phones.js';
import { compileVocabulary } from '../../src/kws/compile.js';
import { DEFAULT_CMUDICT, espeakG2p, fliteG2p, ipaToArpabet, readCmuDict } from '../../src/kws/g2p.js';
import {
  checkVocabulary, combinePronunciations, lexiconPathFor, loadLexiconFor, resolveVocabulary, type Lexicon,
} from '../../src/kws/lexicon.js';
import { loadVocabulary, parseVocabulary } from '../../src/kws/vocabulary.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shippedVocab = path.join(repoRoot, 'vocab/mechanical-en.txt');
const defaults = { threshold: 0.5, boost: 0 };

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gearhear-lexicon-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function lexiconOf(words: Record<string, string[]>): Lexicon {
  const map = new Map(Object.entries(words).map(([w, prons]) => [w, prons.map((p) => p.split(' ') as Phone[])]));
  return { file: 'test.lexicon.json', vocabularyVersion: '', words: map, fromG2p: new Set() };
}

const allPhones = (prons: string[][]): boolean => prons.length > 0 && prons.every((p) => p.length > 0 && p.every(isPhone));

t.test('every shipped term resolves against the committed lexicon', async (t) => {
  t.equal(lexiconPathFor(shippedVocab), path.join(repoRoot, 'vocab/mechanical-en.lexicon.json'));
  const vocab = await loadVocabulary(shippedVocab);
  const lexicon = await loadLexiconFor(shippedVocab, vocab);
  const specs = resolveVocabulary(vocab, lexicon, defaults);
  t.equal(specs.length, vocab.terms.length);
  for (const spec of specs) if (!allPhones(spec.pronunciations)) t.fail(`bad pronunciations for ${spec.term}`);
  const leak = specs.find((s) => s.term === 'oil leak');
  t.match(leak, { category: 'leak', severity: 'high', threshold: 0.5, boost: 0.5 });
  t.same(leak?.pronunciations, [['OY', 'L', 'L', 'IY', 'K']]);
  t.equal(specs.find((s) => s.term === 'gear')?.threshold, 0.7, 'per-term threshold wins over the default');
});

t.test('pron= overrides replace the lexicon; multi-word terms combine word pronunciations', async (t) => {
  const vocab = parseVocabulary('oil leak | pron="OY L IY K"\nfire pump\n', 'plant.txt');
  const lexicon = lexiconOf({ oil: ['OY L'], leak: ['L IY K'], fire: ['F AY ER', 'F AY R'], pump: ['P AH M P'] });
  const [leak, firePump] = resolveVocabulary(vocab, lexicon, defaults);
  t.same(leak.pronunciations, [['OY', 'L', 'IY', 'K']]);
  t.same(firePump.pronunciations.map((p) => p.join(' ')), ['F AY ER P AH M P', 'F AY R P AH M P']);
});

t.test('combinations are deduplicated, primary first, and capped', async (t) => {
  const two = [['A'], ['B']] as unknown as Phone[][];
  t.same(combinePronunciations([two, two]).map((p) => p.join('')), ['AA', 'AB', 'BA', 'BB']);
  t.equal(combinePronunciations([two, two, two, two, two], 8).length, 8);
  t.same(combinePronunciations([two, [['A'], ['A']] as unknown as Phone[][]]).map((p) => p.join('')), ['AA', 'BA']);
});

t.test('a term with no pronunciation names term, file, line and the fix', async (t) => {
  const vocab = parseVocabulary('bearing\n\nflangeworthy seal\n', 'plant.txt');
  const lexicon = lexiconOf({ bearing: ['B EH R IH NG'], seal: ['S IY L'] });
  t.throws(() => resolveVocabulary(vocab, lexicon, defaults), {
    message: /plant\.txt:3: term "flangeworthy seal" has no pronunciation for "flangeworthy"[\s\S]*run `gearhear vocab compile plant\.txt`[\s\S]*add pron="\.\.\."/,
  });
});

t.test('loadLexiconFor: missing and stale lexicons say what to run', async (t) => {
  const dir = await tempDir(t);
  const vocabPath = path.join(dir, 'plant.txt');
  await writeFile(vocabPath, 'bearing\n');
  await t.rejects(loadLexiconFor(vocabPath), { message: /no lexicon .*plant\.lexicon\.json .*run `gearhear vocab compile .*plant\.txt`/ });
  await compileVocabulary(vocabPath);
  t.ok(await loadLexiconFor(vocabPath));
  await writeFile(vocabPath, 'bearing\nimpeller wobble\nsquonk | pron="S K W AA NG K"\n');
  await t.rejects(loadLexiconFor(vocabPath), { message: /stale: no pronunciation for "impeller", "wobble"; run `gearhear vocab compile/ });
});

t.test('compile uses the dictionary, and G2P only for unknown words', async (t) => {
  const dir = await tempDir(t);
  const vocabPath = path.join(dir, 'plant.txt');
  await writeFile(vocabPath, 'bearing\nflangeworthy coupling | severity=high\no-ring\n');
  const before = await checkVocabulary(vocabPath);
  t.match(before, { terms: 3, ok: false, lexiconProblem: /^the lexicon .*\.lexicon\.json is missing/ });
  t.same(before.missingWords, ['bearing', 'coupling', 'flangeworthy', 'o-ring']);

  const result = await compileVocabulary(vocabPath);
  t.equal(result.outPath, path.join(dir, 'plant.lexicon.json'));
  t.same(result.fromG2p, ['flangeworthy']);
  t.same(result.fromDictionary, ['bearing', 'coupling', 'o-ring'], 'o-ring from its dictionary parts');
  const flange = result.lexicon.words.get('flangeworthy') ?? [];
  t.ok(allPhones(flange), `G2P phones: ${flange.map((p) => p.join(' ')).join(' / ')}`);
  t.same(flange[0].slice(0, 3), ['F', 'L', 'AE'], 'G2P output starts like the word sounds');
  t.same(result.lexicon.words.get('bearing'), [['B', 'EH', 'R', 'IH', 'NG']]);
  t.same(result.lexicon.words.get('o-ring')?.[0], ['OW', 'R', 'IH', 'NG']);

  const onDisk = JSON.parse(await readFile(result.outPath, 'utf8')) as { fromG2p: string[]; g2p: string };
  t.same(onDisk.fromG2p, ['flangeworthy']);
  t.equal(onDisk.g2p, 'espeak-ng');
  const after = await checkVocabulary(vocabPath);
  t.match(after, { ok: true, lexiconProblem: null, missingWords: [], g2pWords: ['flangeworthy'], categories: { general: 3 } });

  const other = await compileVocabulary(vocabPath, { g2p: fliteG2p(), outPath: path.join(dir, 'flite.json') });
  t.ok(allPhones(other.lexicon.words.get('flangeworthy') ?? []), 'flite works as the fallback too');
});

t.test('compile without the dictionary says which package to install', async (t) => {
  const dir = await tempDir(t);
  const vocabPath = path.join(dir, 'plant.txt');
  await writeFile(vocabPath, 'bearing\n');
  await t.rejects(compileVocabulary(vocabPath, { dictPath: path.join(dir, 'nope.dict') }), /install Debian package pocketsphinx-en-us or pass --dict/);
});

t.test('the espeak-ng IPA mapping agrees with the CMU dictionary', async (t) => {
  const words = ['bearing', 'lockout', 'valve', 'shaft', 'motor', 'leak', 'water', 'hurry', 'bottle', 'pulley'];
  const cmu = await readCmuDict(DEFAULT_CMUDICT, new Set(words));
  const espeak = espeakG2p();
  for (const word of words) {
    const phones = (await espeak.pronounce(word)).join(' ');
    t.ok(cmu.get(word)?.some((p) => p.join(' ') === phones), `${word}: espeak ${phones} is in CMU`);
  }
  t.same(ipaToArpabet('ˈaɪɚ ðˈɛɹ tʃˈeɪndʒ bˈɑːtl̩'), ['AY', 'ER', 'DH', 'EH', 'R', 'CH', 'EY', 'N', 'JH', 'B', 'AA', 'T', 'AH', 'L']);
  t.throws(() => ipaToArpabet('bʁ'), /IPA symbol "ʁ" .* has no ARPAbet mapping/);
});

t.test('the CMU reader keeps alternates and drops stress', async (t) => {
  const cmu = await readCmuDict(DEFAULT_CMUDICT, new Set(['fire', 'zzzqx']));
  t.same(cmu.get('fire'), [['F', 'AY', 'ER'], ['F', 'AY', 'R']]);
  t.notOk(cmu.has('zzzqx'));
});
