/**
 * Pronunciation sources used only when compiling a lexicon (development machine, not the device):
 * the CMU dictionary shipped by Debian's pocketsphinx-en-us, and grapheme-to-phoneme fallbacks
 * through flite (ARPAbet-like output) or espeak-ng (IPA, mapped to ARPAbet by the table below).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { isPhone, parseArpabet, type Phone } from '../model/phones.js';

const run = promisify(execFile);

export const DEFAULT_CMUDICT = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';
/** Upper bound on one G2P process; flite/espeak answer one word in milliseconds. */
const G2P_TIMEOUT_MS = 10_000;

export interface G2p {
  /** Short name recorded in the lexicon file ("flite", "espeak-ng"). */
  readonly name: string;
  pronounce(word: string): Promise<Phone[]>;
}

/**
 * Pronunciations of the requested words from a CMU-format dictionary (`word(2)` alternates,
 * stress digits removed). Words absent from the dictionary are absent from the result.
 */
export async function readCmuDict(dictPath: string, words: ReadonlySet<string>): Promise<Map<string, Phone[][]>> {
  let text: string;
  try {
    text = await readFile(dictPath, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read CMU dictionary ${dictPath} (${(err as Error).message}); ` +
        'install Debian package pocketsphinx-en-us or pass --dict <cmudict file>',
      { cause: err },
    );
  }
  const out = new Map<string, Phone[][]>();
  for (const line of text.split('\n')) {
    const space = line.search(/\s/);
    if (space <= 0 || line.startsWith(';;;')) continue;
    const word = line.slice(0, space).replace(/\(\d+\)$/, '').toLowerCase();
    if (!words.has(word)) continue;
    const body = line.slice(space).split('#')[0];
    let phones: Phone[];
    try {
      phones = parseArpabet(body);
    } catch {
      continue; // a dictionary entry outside the model's phone set is useless to it
    }
    const prons = out.get(word) ?? [];
    if (!prons.some((p) => p.join(' ') === phones.join(' '))) prons.push(phones);
    out.set(word, prons);
  }
  return out;
}

/** flite's phone names are lower-case ARPAbet plus these. */
const FLITE_PHONES: Record<string, Phone | null> = { ax: 'AH', axr: 'ER', pau: null };

export function fliteG2p(command = 'flite'): G2p {
  return {
    name: 'flite',
    async pronounce(word) {
      const { stdout } = await run(command, ['-t', word, '-ps', '-o', 'none'], { timeout: G2P_TIMEOUT_MS });
      const phones: Phone[] = [];
      for (const token of stdout.trim().split(/\s+/).filter(Boolean)) {
        const mapped = token in FLITE_PHONES ? FLITE_PHONES[token] : token.toUpperCase();
        if (mapped === null) continue;
        if (!isPhone(mapped)) throw new Error(`flite gave phone "${token}" for "${word}", which has no ARPAbet mapping`);
        phones.push(mapped);
      }
      if (phones.length === 0) throw new Error(`flite gave no phones for "${word}"`);
      return phones;
    },
  };
}

/**
 * espeak-ng's en-us IPA -> ARPAbet (39 phones). Matched longest first; stress, length and
 * other combining marks are dropped before matching except the syllabic mark.
 */
export const IPA_TO_ARPABET: Readonly<Record<string, readonly Phone[]>> = {
  // diphthongs and r-coloured vowels
  aɪɚ: ['AY', 'ER'], aɪə: ['AY', 'ER'], aʊɚ: ['AW', 'ER'], aɪ: ['AY'], aʊ: ['AW'], eɪ: ['EY'], oʊ: ['OW'],
  əʊ: ['OW'], ɔɪ: ['OY'], ɜɹ: ['ER'], ɚɹ: ['ER'], əɹ: ['ER'], ɜ: ['ER'], ɚ: ['ER'], ɝ: ['ER'],
  // monophthongs
  ɑ: ['AA'], ɒ: ['AA'], æ: ['AE'], a: ['AE'], ʌ: ['AH'], ə: ['AH'], ɐ: ['AH'], ɔ: ['AO'], o: ['OW'],
  ɛ: ['EH'], e: ['EH'], ɪ: ['IH'], ᵻ: ['IH'], i: ['IY'], ʊ: ['UH'], u: ['UW'], ɯ: ['UW'],
  // syllabic consonants
  'l̩': ['AH', 'L'], 'n̩': ['AH', 'N'], 'm̩': ['AH', 'M'], 'ɹ̩': ['ER'],
  // consonants
  tʃ: ['CH'], dʒ: ['JH'], b: ['B'], d: ['D'], f: ['F'], g: ['G'], ɡ: ['G'], h: ['HH'], k: ['K'],
  l: ['L'], ɫ: ['L'], ɬ: ['L'], m: ['M'], n: ['N'], ŋ: ['NG'], p: ['P'], s: ['S'], t: ['T'], v: ['V'],
  w: ['W'], ʍ: ['W'], z: ['Z'], θ: ['TH'], ð: ['DH'], ʃ: ['SH'], ʒ: ['ZH'], ɹ: ['R'], r: ['R'],
  j: ['Y'], ɾ: ['T'], ʔ: ['T'], x: ['K'], ç: ['HH'],
};
const IPA_KEYS = Object.keys(IPA_TO_ARPABET).sort((a, b) => b.length - a.length);
/** Stress (ˈ ˌ), length (ː ˑ), ties and other marks carry nothing the 39-phone set can express. */
const IPA_IGNORED = /[ˈˌːˑ‿͡\-_'.]|[\u0300-\u0328\u032A-\u036F]/gu;

/** IPA string (one or more words) -> ARPAbet phones; throws naming a symbol the table lacks. */
export function ipaToArpabet(ipa: string): Phone[] {
  const phones: Phone[] = [];
  for (const chunk of ipa.normalize('NFD').replace(IPA_IGNORED, '').split(/\s+/).filter(Boolean)) {
    let i = 0;
    while (i < chunk.length) {
      const key = IPA_KEYS.find((k) => chunk.startsWith(k, i));
      if (!key) throw new Error(`IPA symbol "${chunk[i]}" in "${ipa}" has no ARPAbet mapping (add it to IPA_TO_ARPABET)`);
      phones.push(...IPA_TO_ARPABET[key]);
      i += key.length;
    }
  }
  return phones;
}

export function espeakG2p(command = 'espeak-ng', voice = 'en-us'): G2p {
  return {
    name: 'espeak-ng',
    async pronounce(word) {
      const { stdout } = await run(command, ['-q', '--ipa', '-v', voice, word], { timeout: G2P_TIMEOUT_MS });
      const phones = ipaToArpabet(stdout);
      if (phones.length === 0) throw new Error(`espeak-ng gave no phones for "${word}"`);
      return phones;
    },
  };
}

/** "flite" | "espeak-ng" -> a G2p; the CLI's --g2p option. */
export function g2pByName(name: string): G2p {
  if (name === 'flite') return fliteG2p();
  if (name === 'espeak-ng' || name === 'espeak') return espeakG2p();
  throw new Error(`unknown G2P "${name}" (allowed: flite, espeak-ng)`);
}
