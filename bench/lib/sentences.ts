/** Sentences for the benchmarks: with vocabulary terms (and which ones), and without any. */
import { normalizeTerm, termWords } from '../../src/kws/vocabulary.js';
import { pick } from './common.js';

/** Frames a term is dropped into; `{t}` is the term. */
const FRAMES = [
  'please check the {t} on line two',
  'i think we have {t} here',
  'the operator reported {t} this morning',
  'we found {t} near the back wall',
  'there is {t} again',
  'can you look at the {t} today',
  'write down {t} in the log',
  'it sounds like {t} to me',
  '{t} on the second floor',
  'we should report {t} before lunch',
];

/** Hand-written sentences with terms (the terms are found by matching, see termsIn). */
const NATURAL = [
  'the pump bearing is overheating',
  'there is an oil leak under the gearbox',
  'the conveyor belt is slipping again',
  'i can hear a grinding noise from the motor',
  'excessive vibration on the cooling fan',
  'the relief valve is leaking',
  'we need to replace the drive belt',
  'the compressor tripped twice today',
  'shut it down and call maintenance',
  'the impeller shows cavitation damage',
];

/** General sentences with no vocabulary term (checked by termsIn before use). */
export const GENERAL_SENTENCES = [
  'the weather was lovely on saturday afternoon',
  'could you send me the spreadsheet by friday',
  'my sister moved to a small town in the north',
  'we had pasta and salad for dinner last night',
  'the meeting starts at half past nine',
  'she reads a novel every week on the train',
  'please remember to water the plants',
  'the children played football in the park',
  'i will call you back in ten minutes',
  'the library closes early on sundays',
  'he painted the kitchen a pale yellow',
  'our team won the quiz at the pub',
  'the new bakery sells excellent bread',
  'turn left at the church and keep going',
  'the museum was full of tourists',
  'she forgot her umbrella at the office',
  'we are planning a trip to the coast',
  'the coffee here is much better than before',
  'he has been learning to play the piano',
  'the bus was late because of the snow',
  'they opened a new school across the river',
  'i like to walk the dog after breakfast',
  'the garden looks wonderful in the spring',
  'can we move the party to next week',
  'the movie was longer than i expected',
  'my phone needs a new charger',
  'the hotel room had a view of the lake',
  'we ordered pizza for the whole group',
  'the price of apples went up this year',
  'she sings in a choir on thursday evenings',
];

export interface TermMatcher {
  /** Every vocabulary term whose words occur, in order and next to each other, in `text`. */
  termsIn(text: string): string[];
}

export function termMatcher(terms: readonly string[]): TermMatcher {
  const byWords = terms.map((t) => ({ term: normalizeTerm(t), words: termWords(normalizeTerm(t)) }));
  return {
    termsIn(text: string): string[] {
      const words = termWords(normalizeTerm(text));
      const found = new Set<string>();
      for (const { term, words: tw } of byWords) {
        for (let i = 0; i + tw.length <= words.length; i++) {
          if (tw.every((w, j) => words[i + j] === w)) { found.add(term); break; }
        }
      }
      return [...found];
    },
  };
}

export interface TermSentence {
  text: string;
  /** The terms put in on purpose: recall is counted over these. */
  targets: string[];
  /** Every vocabulary term in the text: detecting any of these is not a false alarm. */
  allowed: string[];
}

/** `count` sentences, each with one vocabulary term in a frame (terms in turn), plus the natural ones. */
export function termSentences(terms: readonly string[], count: number, rand: () => number): TermSentence[] {
  const matcher = termMatcher(terms);
  const out: TermSentence[] = [];
  for (const text of NATURAL.slice(0, Math.min(NATURAL.length, Math.ceil(count / 5)))) {
    const allowed = matcher.termsIn(text);
    out.push({ text, targets: allowed.filter((t) => !allowed.some((o) => o !== t && o.includes(t))), allowed });
  }
  const order = [...terms].sort(() => rand() - 0.5);
  for (let i = 0; out.length < count; i++) {
    const term = order[i % order.length]!;
    const text = pick(rand, FRAMES).replace('{t}', term);
    out.push({ text, targets: [normalizeTerm(term)], allowed: matcher.termsIn(text) });
  }
  return out;
}

/** General sentences, dropping any that contain a vocabulary term. */
export function generalSentences(terms: readonly string[], count: number): string[] {
  const matcher = termMatcher(terms);
  const clean = GENERAL_SENTENCES.filter((s) => matcher.termsIn(s).length === 0);
  return Array.from({ length: Math.min(count, clean.length) }, (_, i) => clean[i]!);
}

/** Sentences whose last words are the term: the term ends where the utterance ends (for latency). */
export function termFinalSentences(terms: readonly string[], count: number, rand: () => number): TermSentence[] {
  const matcher = termMatcher(terms);
  const lead = ['we have', 'i can hear', 'please check the', 'the report says', 'there is'];
  const order = [...terms].sort(() => rand() - 0.5);
  return Array.from({ length: count }, (_, i) => {
    const term = normalizeTerm(order[i % order.length]!);
    const text = `${pick(rand, lead)} ${term}`;
    return { text, targets: [term], allowed: matcher.termsIn(text) };
  });
}
