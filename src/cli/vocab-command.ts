import { checkVocabulary } from '../kws/lexicon.js';
import { compileVocabulary } from '../kws/compile.js';
import { g2pByName } from '../kws/g2p.js';
import { parseCommandArgs, usageError } from './usage.js';

/** `gearhear vocab check FILE` and `gearhear vocab compile FILE [--g2p espeak-ng|flite]`. */
export async function runVocab(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('vocab', { args, allowPositionals: true, options: { g2p: { type: 'string' } } });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, file] = positionals;
  if (sub !== 'check' && sub !== 'compile') return usageError('vocab', sub ? `unknown subcommand "${sub}"` : 'name the subcommand: check or compile');
  if (!file || positionals.length > 2) return usageError('vocab', `name one vocabulary file, e.g. gearhear vocab ${sub} vocab/mechanical-en.txt`);
  if (sub === 'compile') {
    const g2pName = values.g2p ?? 'espeak-ng';
    if (g2pName !== 'espeak-ng' && g2pName !== 'flite') {
      return usageError('vocab', `--g2p must be espeak-ng or flite, got "${g2pName}"`);
    }
    const r = await compileVocabulary(file, { g2p: g2pByName(g2pName) });
    process.stdout.write(`wrote ${r.outPath}: ${r.words} words (${r.fromG2p.length} from ${g2pName}${r.fromG2p.length ? ': ' + r.fromG2p.join(', ') : ''}), vocabulary version ${r.vocabularyVersion}\n`);
    return 0;
  }
  const c = await checkVocabulary(file);
  process.stdout.write(`${c.file}: ${c.terms} terms, version ${c.version}\n`);
  process.stdout.write(`categories: ${Object.entries(c.categories).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  for (const w of c.warnings) process.stdout.write(`warning: ${w}\n`);
  if (c.termProblems.length > 0) {
    for (const p of c.termProblems) process.stdout.write(`problem: ${p}\n`);
    return 1;
  }
  if (!c.ok) {
    process.stdout.write(`problem: ${c.lexiconProblem ?? `no pronunciation for: ${c.missingWords.join(', ')}`}\n`);
    process.stdout.write(`fix: gearhear vocab compile ${file}\n`);
    return 1;
  }
  process.stdout.write('ok: every term has a pronunciation the keyword search accepts\n');
  return 0;
}
