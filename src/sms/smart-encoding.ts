/**
 * Opt-in "smart encoding": Unicode look-alikes that have a GSM 7-bit equivalent, so a
 * message typed on a phone or pasted from a word processor can stay GSM-7.
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  '\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", '\u02BC': "'", '\u00B4': "'", '`': "'",
  '\u201C': '"', '\u201D': '"', '\u201E': '"', '\u201F': '"', '\u2033': '"', '\u00AB': '"', '\u00BB': '"',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-',
  '\u2026': '...',
  '\u2039': '<', '\u203A': '>', '\u02C6': '^', '\u02DC': '~',
  '\u00A0': ' ', '\u2000': ' ', '\u2001': ' ', '\u2002': ' ', '\u2003': ' ', '\u2004': ' ', '\u2005': ' ',
  '\u2006': ' ', '\u2007': ' ', '\u2008': ' ', '\u2009': ' ', '\u200A': ' ', '\u202F': ' ', '\u205F': ' ',
  '\u3000': ' ',
  '\u200B': '', '\u2060': '', '\uFEFF': '',
};

const PATTERN = new RegExp(`[${Object.keys(LOOK_ALIKES).join('')}]`, 'gu');

/** Replaces every look-alike; whether the result is GSM-7 is the caller's question. */
export function replaceLookAlikes(text: string): string {
  return text.replace(PATTERN, (ch) => LOOK_ALIKES[ch] ?? ch);
}
