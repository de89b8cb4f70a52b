/**
 * Where a text is cut into parts. The common case is one pass over the text that finds
 * whether the tables can encode it, how many units it takes and where each part ends;
 * grapheme clusters are worked out only for text that has characters able to join one.
 */
import { clusterEnds, codePointEnd, hasJoiner } from './clusters.ts';
import { ESCAPED, JOINER } from './gsm7.ts';

export interface Cuts {
  /** Septets (gsm7) or UTF-16 code units (ucs2) of the whole text. */
  readonly units: number;
  /** End offset of each part in the text; one part when the text fits a single part. */
  readonly ends: readonly number[];
  /** Units in the last part. */
  readonly lastUnits: number;
}

/**
 * GSM-7 with the encoding `map`: null when a character is not in its tables. A text that
 * fits `single` units is one part; a longer one is cut every `capacity` units, never
 * inside an escape pair (each character is one code unit, its escape included).
 */
export function cutGsm7(text: string, map: Int16Array, single: number, capacity: number): Cuts | null {
  const ends: number[] = [];
  let units = 0;
  let used = 0;
  let joins = false;
  for (let i = 0; i < text.length; i++) {
    const v = map[text.charCodeAt(i)] as number;
    if (v < 0) return null;
    joins ||= (v & JOINER) !== 0;
    const c = v & ESCAPED ? 2 : 1;
    if (used + c > capacity) {
      ends.push(i);
      used = 0;
    }
    used += c;
    units += c;
  }
  if (units <= single) return { units, ends: [text.length], lastUnits: units };
  if (joins) return cutClusters(text, map, units, capacity);
  ends.push(text.length);
  return { units, ends, lastUnits: used };
}

/** UCS-2: cut every `capacity` code units, never inside a surrogate pair or (where it fits) a grapheme cluster. */
export function cutUcs2(text: string, single: number, capacity: number): Cuts {
  const units = text.length;
  if (units <= single) return { units, ends: [units], lastUnits: units };
  if (hasJoiner(text)) return cutClusters(text, null, units, capacity);
  // Every code point is 1 or 2 units, so a part is `capacity` units unless that would
  // end between the halves of a pair: then it ends one unit earlier.
  const ends: number[] = [];
  let from = 0;
  while (units - from > capacity) {
    let end = from + capacity;
    if (isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end))) end--;
    ends.push(end);
    from = end;
  }
  ends.push(units);
  return { units, ends, lastUnits: units - from };
}

const isHigh = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;

/**
 * A cluster that fits a part on its own moves to the next part whole; one larger than a
 * part is cut between code points (never inside a pair).
 */
function cutClusters(text: string, map: Int16Array | null, units: number, capacity: number): Cuts {
  const ends: number[] = [];
  let used = 0;
  let pos = 0;
  for (const end of clusterEnds(text)) {
    const c = cost(map, text, pos, end);
    if (used + c <= capacity) {
      used += c;
    } else if (c <= capacity) {
      ends.push(pos);
      used = c;
    } else {
      for (let i = pos; i < end; ) {
        const next = codePointEnd(text, i);
        const pc = cost(map, text, i, next);
        if (used + pc > capacity) {
          ends.push(i);
          used = 0;
        }
        used += pc;
        i = next;
      }
    }
    pos = end;
  }
  ends.push(text.length);
  return { units, ends, lastUnits: used };
}

/** Septets (with a map) or code units (without) that text[from, to) takes; the map encodes all of it. */
function cost(map: Int16Array | null, text: string, from: number, to: number): number {
  if (map === null) return to - from;
  let n = 0;
  for (let i = from; i < to; i++) n += (map[text.charCodeAt(i)] as number) & ESCAPED ? 2 : 1;
  return n;
}
