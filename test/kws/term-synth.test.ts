/**
 * `vocab compile`'s voices (term-synth.ts): the synthesisers installed here are found with their
 * voices (flite and festival's kal diphone voice are what CI installs; RHVoice and Pico come from
 * Debian's non-free component and are checked only where installed), every engine found says a term,
 * and voices are drawn from the installed ones only, espeak-ng taking the rest.
 */
import t from 'tap';
import { describeVoices, installedVoices, randomVoice, sayTerm, seededRandom, type OtherVoices } from '../../src/kws/term-synth.js';

const installed = await installedVoices();

t.test('the installed synthesisers are found with their voices', async (t) => {
  t.ok(installed.get('flite')?.includes('slt'), `flite and its voices are found (${describeVoices(installed).join('; ')})`);
  t.ok(installed.get('festival')?.includes('kal_diphone'), "festival's kal diphone voice is found");
  t.notOk(installed.get('rhvoice')?.some((v) => v === 'evgeniy-eng' || v === 'lyubov'), 'never the CC BY-NC-ND RHVoice voices');
  t.equal(describeVoices(new Map())[0], 'espeak-ng');
});

t.test('every installed engine says a term, with its end inside the speech', async (t) => {
  const rng = seededRandom(1);
  for (const [engine, names] of installed) {
    const only: OtherVoices = new Map([[engine, names]]);
    let voice = randomVoice(rng, only);
    while (voice.engine !== engine) voice = randomVoice(rng, only);
    const said = await sayTerm('bearing', voice, 'in sentence', rng);
    const sec = said.speech.length / 16000;
    t.ok(sec > 0.8 && sec < 8, `${engine} ${voice.name} said a sentence of ${sec.toFixed(2)} s`);
    t.ok(said.end > 0.2 * 16000 && said.end < said.speech.length, `the term ends at ${(said.end / 16000).toFixed(2)} s`);
  }
});

t.test('voices come from the installed engines only, espeak-ng taking the rest', async (t) => {
  const rng = seededRandom(7);
  const none = Array.from({ length: 50 }, () => randomVoice(rng, new Map()).engine);
  t.same([...new Set(none)], ['espeak-ng'], 'nothing else installed: espeak-ng only');
  const some: OtherVoices = new Map([['flite', ['awb']], ['pico', ['en-GB']]]);
  const drawn = Array.from({ length: 2000 }, () => randomVoice(rng, some));
  const share = (e: string): number => drawn.filter((v) => v.engine === e).length / drawn.length;
  t.ok(Math.abs(share('flite') - 0.2) < 0.04 && Math.abs(share('pico') - 0.1) < 0.03, `flite ${share('flite')}, pico ${share('pico')}`);
  t.equal(share('rhvoice') + share('festival'), 0, 'engines not installed are never drawn');
  t.ok(drawn.every((v) => v.engine === 'espeak-ng' || v.name === (v.engine === 'flite' ? 'awb' : 'en-GB')), 'only the installed voices');
});
