import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { loadVocabulary, parseVocabulary, termWords, VocabularyError } from '../../src/kws/vocabulary.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shippedVocab = path.join(repoRoot, 'vocab/mechanical-en.txt');

/** The VocabularyError message parseVocabulary throws for `text`; anything else fails the test. */
function errorOf(text: string): string {
  try {
    parseVocabulary(text, 'plant.txt');
  } catch (err) {
    if (!(err instanceof VocabularyError)) throw err;
    return err.message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

t.test('bare terms, comments, blank lines, case and whitespace', async (t) => {
  const vocab = parseVocabulary('# header\n\n  Bearing  \nOIL   Leak # trailing comment\n\t\n', 'plant.txt');
  t.same(vocab.terms.map((x) => [x.term, x.category, x.severity, x.line]), [
    ['bearing', 'general', 'medium', 3],
    ['oil leak', 'general', 'medium', 4],
  ]);
  t.equal(vocab.terms[0].threshold, undefined, 'threshold left to the daemon defaults');
  t.equal(vocab.file, 'plant.txt');
  t.match(vocab.version, /^[0-9a-f]{12}$/);
});

t.test('attributes: all keys, aliases, quoting, separators, several pronunciations', async (t) => {
  const vocab = parseVocabulary(
    [
      'oil leak | category=Leak severity=HIGH threshold=0.6 boost=1.5 pron="OY L L IY K"',
      'bearing | cat: component, sev: info, pron="B EH1 R IH0 NG; B EH R IY NG" pron=\'B AE R IH NG\'',
      'gasket | pron=G AE S K AH T severity=low',
      "someone's hurt | severity=critical   # apostrophe in a term is not a quote",
    ].join('\n'),
    'plant.txt',
  );
  const [leak, bearing, gasket, hurt] = vocab.terms;
  t.match(leak, { term: 'oil leak', category: 'leak', severity: 'high', threshold: 0.6, boost: 1.5 });
  t.same(leak.pronunciations, [['OY', 'L', 'L', 'IY', 'K']]);
  t.match(bearing, { category: 'component', severity: 'info' });
  t.same(bearing.pronunciations, [['B', 'EH', 'R', 'IH', 'NG'], ['B', 'EH', 'R', 'IY', 'NG'], ['B', 'AE', 'R', 'IH', 'NG']]);
  t.same(gasket.pronunciations, [['G', 'AE', 'S', 'K', 'AH', 'T']], 'unquoted pron runs to the next key');
  t.equal(gasket.severity, 'low');
  t.match(hurt, { term: "someone's hurt", severity: 'critical' });
});

t.test('errors name file, line, term and what is allowed', async (t) => {
  t.match(errorOf('bearing\nvalve | colour=red'), /plant\.txt:2: term "valve": unknown attribute "colour" \(allowed: category, severity, threshold, boost, pron\)/);
  t.match(errorOf('valve | severity=urgent'), /plant\.txt:1: term "valve": severity "urgent" is not one of info\|low\|medium\|high\|critical/);
  t.match(errorOf('\n\nvalve | threshold=1.5'), /plant\.txt:3: term "valve": threshold=1\.5 is not a number in \[0,1\]/);
  t.match(errorOf('valve | threshold=abc'), /threshold=abc is not a number in \[0,1\]/);
  t.match(errorOf('valve | pron="V AE L QQ"'), /plant\.txt:1: term "valve": pron "V AE L QQ" has unknown phone "QQ" \(allowed: AA AE/);
  t.match(errorOf('valve severity=high'), /plant\.txt:1: put attributes after a "\|"/);
  t.match(errorOf('| severity=high'), /plant\.txt:1: attributes without a term/);
  t.match(errorOf('valve | pron="V AE L V'), /unterminated " in value of pron/);
  t.match(errorOf('valve | high'), /expected key=value at "high"/);
  t.match(errorOf('# only comments\n'), /no terms/);
});

t.test('all problems are reported at once', async (t) => {
  const message = errorOf('valve | severity=nope\nbearing\npump | boost=99');
  t.match(message, /2 problems/);
  t.match(message, /plant\.txt:1:.*valve/);
  t.match(message, /plant\.txt:3:.*pump.*boost=99/);
});

t.test('every problem of one line is reported, not only the first', async (t) => {
  const message = errorOf('bearing\nvalve | severity=urgent colour=red threshold=2');
  t.match(message, /3 problems/);
  t.match(message, /plant\.txt:2: term "valve": severity "urgent" is not one of/);
  t.match(message, /plant\.txt:2: term "valve": unknown attribute "colour"/);
  t.match(message, /plant\.txt:2: term "valve": threshold=2 is not a number in \[0,1\]/);
  const both = errorOf('valve_2 | boost=99');
  t.match(both, /2 problems/);
  t.match(both, /plant\.txt:1: term "valve_2" may only contain letters/);
  t.match(both, /plant\.txt:1: term "valve_2": boost=99 is not a number/);
});

t.test('duplicates: identical is a warning, conflicting is an error', async (t) => {
  const vocab = parseVocabulary('bearing | severity=info\nBearing   |  severity=info\n', 'plant.txt');
  t.equal(vocab.terms.length, 1);
  t.match(vocab.warnings, [/plant\.txt:2: term "bearing" repeats line 1/]);
  t.match(errorOf('bearing | severity=info\nbearing | severity=high'), /plant\.txt:2: term "bearing" is already defined on line 1 with other attributes/);
});

t.test('version covers meaning, not comments or spacing', async (t) => {
  const a = parseVocabulary('bearing | severity=info\noil leak', 'a.txt').version;
  const b = parseVocabulary('# comment\n  BEARING|severity: info   \n\noil   leak\n', 'b.txt').version;
  const c = parseVocabulary('bearing | severity=high\noil leak', 'a.txt').version;
  t.equal(a, b);
  t.not(a, c);
});

t.test('termWords splits a term into lexicon keys', async (t) => {
  t.same(termWords('  Shaft   Seal '), ['shaft', 'seal']);
  t.same(termWords('o-ring'), ['o-ring']);
});

t.test('loadVocabulary reads a file and names it in errors', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gearhear-vocab-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bad.txt');
  await writeFile(file, 'bearing\nvalve | severity=loud\n');
  await t.rejects(loadVocabulary(file), { message: new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: term "valve"`) });
  await t.rejects(loadVocabulary(path.join(dir, 'absent.txt')), VocabularyError, 'a missing file is a VocabularyError (a person fixes it: exit 78)');
  await t.rejects(loadVocabulary(path.join(dir, 'absent.txt')), /cannot read vocabulary .*absent\.txt: it does not exist/);
  await t.rejects(loadVocabulary(dir), /cannot read vocabulary .*: it is a directory/);
});

t.test('the shipped vocabulary parses and is large enough', async (t) => {
  const vocab = await loadVocabulary(shippedVocab);
  t.ok(vocab.terms.length >= 150, `${vocab.terms.length} terms`);
  t.same(vocab.warnings, []);
  const categories = new Set(vocab.terms.map((x) => x.category));
  t.ok(categories.size >= 8 && categories.size <= 14, `a small set of categories: ${[...categories].join(' ')}`);
  for (const required of ['bearing', 'gearbox', 'impeller', 'cavitation', 'misalignment', 'oil leak', 'emergency stop', 'seized']) {
    t.ok(vocab.terms.some((x) => x.term === required), `has "${required}"`);
  }
  t.ok(vocab.terms.some((x) => x.severity === 'critical') && vocab.terms.some((x) => x.severity === 'info'));
});

t.test('the supported size: 10,000 terms load, one more is refused with what to do; a huge file is refused unread', async (t) => {
  const { MAX_VOCABULARY_TERMS, MAX_VOCABULARY_BYTES } = await import('../../src/kws/vocabulary.js');
  const terms = (n: number): string => Array.from({ length: n }, (_, i) => `term ${i.toString(36)}x`).join('\n');
  t.equal(parseVocabulary(terms(MAX_VOCABULARY_TERMS), 'big.txt').terms.length, MAX_VOCABULARY_TERMS, `${MAX_VOCABULARY_TERMS} terms parse`);
  t.throws(() => parseVocabulary(terms(MAX_VOCABULARY_TERMS + 1), 'huge.txt'),
    { name: 'VocabularyError', message: /huge\.txt: 10001 terms; gearhear supports at most 10000 per vocabulary.*split them across devices/ });
  const dir = await mkdtemp(path.join(tmpdir(), 'gearhear-vocab-size-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'dump.txt');
  await writeFile(file, Buffer.alloc(MAX_VOCABULARY_BYTES + 1, 'a'));
  await t.rejects(loadVocabulary(file), { name: 'VocabularyError', message: /dump\.txt: 4194305 bytes, over the 4194304-byte limit/ });
});
