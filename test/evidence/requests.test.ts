/** Feedback requests: what a wrong-term verdict may name. */
import t from 'tap';
import { checkSaidTerm, parseVerdict } from '../../src/evidence/requests.js';

const terms = ['bearing', 'gearbox', 'gear', 'oil leak'];

t.test('a wrong-term verdict names another term of the vocabulary', async (t) => {
  const v = parseVerdict({ verdict: 'wrong-term  Gear   Box ' }, new Date(0));
  t.same(v, { verdict: 'wrong-term', saidTerm: 'gear box', at: '1970-01-01T00:00:00.000Z' }, 'normalised as vocabulary terms are');
  t.doesNotThrow(() => checkSaidTerm('gearbox', 'gear', terms));
  t.throws(() => checkSaidTerm('gear box', 'gear', terms), /"gear box" is not a term of the vocabulary \(4 terms; the closest: gearbox, gear, bearing\)/);
  t.throws(() => checkSaidTerm('flux capacitor', 'gear', []), /"flux capacitor" is not a term of the vocabulary \(0 terms\)/);
  t.throws(() => checkSaidTerm('gear', 'gear', terms), /names the term that was detected; a right detection is verdict "true"/);
});
