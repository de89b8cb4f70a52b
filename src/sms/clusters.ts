/** Code points and grapheme clusters, as the segmenter needs them to cut text between parts. */

/**
 * Code points that can join a grapheme cluster with a neighbour (UAX #29: Extend, ZWJ,
 * SpacingMark, Prepend, Regional_Indicator, Hangul jamo). Text without any of them
 * clusters exactly by code point, which is much cheaper than Intl.Segmenter.
 */
export const JOINS =
  /[\p{M}\u200C\u200D\p{RI}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}]/u;

/** Per code point, 1 when JOINS matches it; filled a block of 256 at a time, on first use. */
let joinTable: Uint8Array | undefined;
const blockReady = new Uint8Array(0x110000 >> 8);

function joins(cp: number): boolean {
  joinTable ??= new Uint8Array(0x110000);
  const block = cp >> 8;
  if (blockReady[block] === 0) {
    for (let c = block << 8, end = c + 0x100; c < end; c++) joinTable[c] = JOINS.test(String.fromCodePoint(c)) ? 1 : 0;
    blockReady[block] = 1;
  }
  return joinTable[cp] === 1;
}

/** JOINS.test(text), one table lookup per code point instead of a regex scan. */
export function hasJoiner(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i) as number;
    if (joins(cp)) return true;
    if (cp > 0xffff) i++;
  }
  return false;
}

let graphemes: Intl.Segmenter | undefined;

/** End offsets of grapheme clusters, except that CR LF counts as two characters, as carriers count it. */
export function clusterEnds(text: string): number[] {
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  const ends: number[] = [];
  for (const { segment, index } of graphemes.segment(text)) {
    if (segment === '\r\n') ends.push(index + 1);
    ends.push(index + segment.length);
  }
  return ends;
}

/** Offset just past the code point at `i` (a surrogate pair is one code point). */
export function codePointEnd(text: string, i: number): number {
  const u = text.charCodeAt(i);
  if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return i + 2;
  }
  return i + 1;
}

export function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i = codePointEnd(text, i)) n++;
  return n;
}
