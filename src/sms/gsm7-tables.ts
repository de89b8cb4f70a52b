/**
 * GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1, §6.2.1.1).
 * Each table is 128 characters indexed by septet; U+FFFF marks an unassigned code and
 * the escape (0x1B).
 */
import { INDIC_TABLES } from './national-tables-indic.ts';
import { LATIN_TABLES } from './national-tables-latin.ts';

export const UNASSIGNED = '\uFFFF';
export const ESC = 0x1b;

export interface ShiftTables {
  /** Locking shift table (replaces the default alphabet); absent for Spanish. */
  readonly locking?: string;
  /** Single shift table (what follows an escape). */
  readonly single: string;
}

export const DEFAULT_ALPHABET =
  '@\u00A3$\u00A5\u00E8\u00E9\u00F9\u00EC\u00F2\u00C7\n\u00D8\u00F8\r\u00C5\u00E5' +
  '\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E\uFFFF\u00C6\u00E6\u00DF\u00C9' +
  ' !"#\u00A4%&\'()*+,-./' +
  '0123456789:;<=>?' +
  '\u00A1ABCDEFGHIJKLMNO' +
  'PQRSTUVWXYZ\u00C4\u00D6\u00D1\u00DC\u00A7' +
  '\u00BFabcdefghijklmno' +
  'pqrstuvwxyz\u00E4\u00F6\u00F1\u00FC\u00E0';

export const DEFAULT_EXTENSION = tableFrom({
  0x0a: '\f',
  0x14: '^',
  0x28: '{',
  0x29: '}',
  0x2f: '\\',
  0x3c: '[',
  0x3d: '~',
  0x3e: ']',
  0x40: '|',
  0x65: '\u20AC',
});

/** National language identifiers (TS 23.038 §6.2.1.2.4). */
export const NATIONAL_LANGUAGES = {
  turkish: 1,
  spanish: 2,
  portuguese: 3,
  bengali: 4,
  gujarati: 5,
  hindi: 6,
  kannada: 7,
  malayalam: 8,
  oriya: 9,
  punjabi: 10,
  tamil: 11,
  telugu: 12,
  urdu: 13,
} as const;

export type NationalLanguage = keyof typeof NATIONAL_LANGUAGES;

const NATIONAL: Readonly<Record<number, ShiftTables>> = { ...LATIN_TABLES, ...INDIC_TABLES };

/** The locking table for a language id; unknown ids and 0 fall back to the default alphabet. */
export function lockingTable(id: number): string {
  return (id === 0 ? undefined : NATIONAL[id]?.locking) ?? DEFAULT_ALPHABET;
}

/** The single shift table for a language id; unknown ids and 0 fall back to the default extension. */
export function singleShiftTable(id: number): string {
  return (id === 0 ? undefined : NATIONAL[id]?.single) ?? DEFAULT_EXTENSION;
}

/** Whether a language id has a locking (respectively single) shift table. */
export function hasTable(id: number, kind: 'locking' | 'single'): boolean {
  if (id === 0) return true;
  const t = NATIONAL[id];
  return t !== undefined && t[kind] !== undefined;
}

function tableFrom(entries: Readonly<Record<number, string>>): string {
  const chars = new Array<string>(128).fill(UNASSIGNED);
  for (const [code, ch] of Object.entries(entries)) chars[Number(code)] = ch;
  return chars.join('');
}
