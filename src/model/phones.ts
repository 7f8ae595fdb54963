/** The 39 ARPAbet phones (stress removed) the acoustic model outputs, after the CTC blank. */
export const ARPABET_PHONES = [
  'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH',
  'IH', 'IY', 'JH', 'K', 'L', 'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH', 'UH',
  'UW', 'V', 'W', 'Y', 'Z', 'ZH',
] as const;

export type Phone = (typeof ARPABET_PHONES)[number];

export const BLANK_TOKEN = '<blk>';

const PHONE_SET: ReadonlySet<string> = new Set(ARPABET_PHONES);

export function isPhone(s: string): s is Phone {
  return PHONE_SET.has(s);
}

/** "B EH1 R IH0 NG" -> ["B","EH","R","IH","NG"]; throws on an unknown phone. */
export function parseArpabet(text: string): Phone[] {
  const phones = text.trim().split(/\s+/).filter(Boolean).map((p) => p.toUpperCase().replace(/[0-2]$/, ''));
  for (const p of phones) {
    if (!isPhone(p)) throw new Error(`unknown ARPAbet phone "${p}" in "${text}" (allowed: ${ARPABET_PHONES.join(' ')})`);
  }
  return phones as Phone[];
}
