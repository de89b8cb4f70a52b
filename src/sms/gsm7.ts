/** Text ↔ septets through a locking table and a single shift table (TS 23.038 §6.2.1). */
import { ESC, UNASSIGNED, lockingTable, singleShiftTable } from './gsm7-tables.ts';

/** A pair of national language ids; 0 is the default alphabet / extension table. */
export interface Gsm7Shift {
  readonly locking: number;
  readonly single: number;
}

export const DEFAULT_SHIFT: Gsm7Shift = { locking: 0, single: 0 };

const NOT_ENCODABLE = -1;
const ESCAPED = 0x100;
const maps = new Map<number, Int16Array>();

/**
 * For each UTF-16 code unit: its septet (0–127), ESCAPED|septet when it needs an escape,
 * or -1. Built once per table pair.
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
      if (ch !== UNASSIGNED.charCodeAt(0)) map[ch] = ESCAPED | i;
    }
    for (let i = 127; i >= 0; i--) {
      const ch = locking.charCodeAt(i);
      if (ch !== UNASSIGNED.charCodeAt(0) && i !== ESC) map[ch] = i;
    }
    maps.set(key, map);
  }
  return map;
}

/** Septets a code unit costs (1 or 2), or 0 when the tables cannot encode it. */
export function septetCost(map: Int16Array, codeUnit: number): number {
  const v = map[codeUnit] ?? NOT_ENCODABLE;
  return v < 0 ? 0 : v & ESCAPED ? 2 : 1;
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
    if (v & ESCAPED) {
      out[n++] = ESC;
      out[n++] = v & 0x7f;
    } else {
      out[n++] = v;
    }
  }
  return out.subarray(0, n);
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
