import { parseArgs } from 'node:util';
import { checkVocabulary } from '../kws/lexicon.js';
import { compileVocabulary } from '../kws/compile.js';
import { g2pByName } from '../kws/g2p.js';

/** `gearhear vocab check FILE` and `gearhear vocab compile FILE [--g2p espeak-ng|flite]`. */
export async function runVocab(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { g2p: { type: 'string' } } });
  const [sub, file] = positionals;
  if ((sub !== 'check' && sub !== 'compile') || !file) {
    process.stderr.write('usage: gearhear vocab check FILE | gearhear vocab compile FILE [--g2p espeak-ng|flite]\n');
    return 64;
  }
  if (sub === 'compile') {
    const g2pName = values.g2p ?? 'espeak-ng';
    if (g2pName !== 'espeak-ng' && g2pName !== 'flite') {
      process.stderr.write(`gearhear vocab compile: --g2p must be espeak-ng or flite, got "${g2pName}"\n`);
      return 64;
    }
    const r = await compileVocabulary(file, { g2p: g2pByName(g2pName) });
    process.stdout.write(`wrote ${r.outPath}: ${r.words} words (${r.fromG2p.length} from ${g2pName}${r.fromG2p.length ? ': ' + r.fromG2p.join(', ') : ''}), vocabulary version ${r.vocabularyVersion}\n`);
    return 0;
  }
  const c = await checkVocabulary(file);
  process.stdout.write(`${c.file}: ${c.terms} terms, version ${c.version}\n`);
  process.stdout.write(`categories: ${Object.entries(c.categories).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  for (const w of c.warnings) process.stdout.write(`warning: ${w}\n`);
  if (!c.ok) {
    process.stdout.write(`problem: ${c.lexiconProblem ?? `no pronunciation for: ${c.missingWords.join(', ')}`}\n`);
    process.stdout.write(`fix: gearhear vocab compile ${file}\n`);
    return 1;
  }
  process.stdout.write('ok: every term has a pronunciation\n');
  return 0;
}
