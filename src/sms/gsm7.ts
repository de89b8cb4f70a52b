/** Text ↔ septets through a locking table and a single shift table (TS 23.038 §6.2.1). */
import { JOINS } from './clusters.ts';
import { ESC, UNASSIGNED, lockingTable, singleShiftTable } from './gsm7-tables.ts';

/** A pair of national language ids; 0 is the default alphabet / extension table. */
export interface Gsm7Shift {
  readonly locking: number;
  readonly single: number;
}

export const DEFAULT_SHIFT: Gsm7Shift = { locking: 0, single: 0 };

const NOT_ENCODABLE = -1;
/** Flag: the character costs an escape septet before its code. */
export const ESCAPED = 0x100;
/** Flag: the character can join a grapheme cluster with a neighbour (only in some national tables). */
export const JOINER = 0x200;
const maps = new Map<number, Int16Array>();

/**
 * For each UTF-16 code unit: its septet (0–127) with the ESCAPED and JOINER flags, or -1.
 * Built once per table pair, so every per-character question is one typed-array load.
 */
export function encodingMap(shift: Gsm7Shift): Int16Array {
  const key = shift.locking * 256 + shift.single;
  let map = maps.get(key);
  if (map === undefined) {
    map = new Int16Array(0x10000).fill(NOT_ENCODABLE);
    const single = singleShiftTable(shift.single);
    const locking = lockingTable(shift.locking);
    for (let i = 127; i >= 0; i--) {
      const ch = single.charCodeAt(i);
      if (ch !== UNASSIGNED.charCodeAt(0)) map[ch] = ESCAPED | i | joinerFlag(ch);
    }
    for (let i = 127; i >= 0; i--) {
      const ch = locking.charCodeAt(i);
      if (ch !== UNASSIGNED.charCodeAt(0) && i !== ESC) map[ch] = i | joinerFlag(ch);
    }
    maps.set(key, map);
  }
  return map;
}

function joinerFlag(codeUnit: number): number {
  return JOINS.test(String.fromCharCode(codeUnit)) ? JOINER : 0;
}

/** Total septets for `text`, or -1 when any character is not encodable. */
export function gsm7Length(text: string, shift: Gsm7Shift = DEFAULT_SHIFT): number {
  const map = encodingMap(shift);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const v = map[text.charCodeAt(i)] as number;
    if (v < 0) return -1;
    n += v & ESCAPED ? 2 : 1;
  }
  return n;
}

/** Septets for `text`; throws RangeError on an unencodable character (callers check first). */
export function encodeGsm7(text: string, shift: Gsm7Shift = DEFAULT_SHIFT): Uint8Array {
  const map = encodingMap(shift);
  const out = new Uint8Array(text.length * 2);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const v = map[text.charCodeAt(i)] as number;
    if (v < 0) throw new RangeError(`character U+${text.charCodeAt(i).toString(16)} is not in the GSM 7-bit alphabet`);
    if (v & ESCAPED) out[n++] = ESC;
    out[n++] = v & 0x7f;
  }
  return out.subarray(0, n);
}

/**
 * Encodes text[from, to) (every character encodable, as the segmenter checked) and packs
 * the septets into `out` from byte `at`, after `fillBits` zero bits (TS 23.038 §6.1.2.1.1).
 * Returns the septet count; the packed octets end at `at + septetBytes(count, fillBits)`.
 */
export function packText(text: string, from: number, to: number, map: Int16Array, out: Uint8Array, at: number, fillBits: number): number {
  let acc = 0;
  let bits = fillBits;
  let septets = 0;
  let o = at;
  for (let i = from; i < to; i++) {
    const v = map[text.charCodeAt(i)] as number;
    if (v & ESCAPED) {
      acc |= ESC << bits;
      bits += 7;
      septets++;
    }
    acc |= (v & 0x7f) << bits;
    bits += 7;
    septets++;
    while (bits >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[o] = acc;
  return septets;
}

/**
 * Decodes septets. An escape followed by a code the single shift table lacks reads as
 * the locking table's character (TS 23.038 §6.2.1.1); a trailing escape is dropped.
 */
export function decodeGsm7(septets: ArrayLike<number>, shift: Gsm7Shift = DEFAULT_SHIFT): string {
  const locking = lockingTable(shift.locking);
  const single = singleShiftTable(shift.single);
  let s = '';
  for (let i = 0; i < septets.length; i++) {
    const c = (septets[i] as number) & 0x7f;
    if (c === ESC) {
      if (i + 1 >= septets.length) break;
      const next = (septets[++i] as number) & 0x7f;
      const ext = single[next] as string;
      if (ext !== UNASSIGNED) s += ext;
      else if (next === ESC) s += ' ';
      else s += readable(locking[next] as string);
    } else {
      s += readable(locking[c] as string);
    }
  }
  return s;
}

function readable(ch: string): string {
  return ch === UNASSIGNED ? '\uFFFD' : ch;
}
