/**
 * Segmentation: cheapest exact encoding, the parts a text is cut into, and the counts
 * the send API, metering and the dashboard show (TS 23.040 §9.2.3.24.1, TS 23.038 §6.2.1.2).
 */
import { ValidationError } from '../errors/index.ts';
import { NATIONAL_LANGUAGES, hasTable, type NationalLanguage } from './gsm7-tables.ts';
import { DEFAULT_SHIFT, encodingMap, gsm7Length, septetCost, type Gsm7Shift } from './gsm7.ts';
import { replaceLookAlikes } from './smart-encoding.ts';
import { udhLength, type Ports, type UdhSpec } from './udh.ts';

export const DEFAULT_MAX_PARTS = 10;
const USER_DATA_OCTETS = 140;

export interface SegmentOptions {
  /** Replace Unicode look-alikes with GSM equivalents when that makes the text GSM-7. */
  smart?: boolean;
  /** National language tables this number may encode with (opt-in); decoding needs none. */
  nationalLanguages?: readonly NationalLanguage[];
  /** 16-bit concatenation reference: 152 septets / 66 units per part instead of 153 / 67. */
  ref16?: boolean;
  /** Most parts a message may take (default 10). */
  maxParts?: number;
  /** Return the counts for over-long text instead of throwing (for live counters). */
  allowOverLimit?: boolean;
  /** Application ports, which take UDH room in every part. */
  ports?: Ports;
}

export interface SegmentInfo {
  readonly encoding: 'gsm7' | 'ucs2';
  readonly segments: number;
  /** Septets (gsm7) or UTF-16 code units (ucs2) still free in the last part. */
  readonly charsLeftInLastSegment: number;
  /** Room in each part of this message, in the same units. */
  readonly unitsPerSegment: number;
  /** Septets or code units the whole text takes. */
  readonly units: number;
  /** Unicode code points in the text as sent. */
  readonly characters: number;
  /** National language tables used, when any. */
  readonly shift: { readonly locking: NationalLanguage | null; readonly single: NationalLanguage | null } | null;
  /** True when smart encoding changed the text. */
  readonly smartEncoded: boolean;
  readonly maxParts: number;
  readonly withinLimit: boolean;
}

export interface SegmentPlan extends SegmentInfo {
  /** The text as sent (after smart encoding), cut into parts. */
  readonly parts: readonly string[];
  readonly gsm7Shift: Gsm7Shift;
}

/** Encoding, part count and room left for `text`; throws ValidationError past `maxParts`. */
export function segmentInfo(text: string, opts: SegmentOptions = {}): SegmentInfo {
  const p = planSegments(text, opts);
  return {
    encoding: p.encoding,
    segments: p.segments,
    charsLeftInLastSegment: p.charsLeftInLastSegment,
    unitsPerSegment: p.unitsPerSegment,
    units: p.units,
    characters: p.characters,
    shift: p.shift,
    smartEncoded: p.smartEncoded,
    maxParts: p.maxParts,
    withinLimit: p.withinLimit,
  };
}

export function planSegments(text: string, opts: SegmentOptions = {}): SegmentPlan {
  const maxParts = opts.maxParts ?? DEFAULT_MAX_PARTS;
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > 255) {
    throw new ValidationError('maxParts must be an integer from 1 to 255');
  }
  let sent = text;
  let smartEncoded = false;
  if (opts.smart) {
    const replaced = replaceLookAlikes(text);
    if (replaced !== text && candidates(opts).some((s) => gsm7Length(replaced, s) >= 0)) {
      sent = replaced;
      smartEncoded = true;
    }
  }
  let best: Cut | null = null;
  for (const shift of candidates(opts)) {
    if (gsm7Length(sent, shift) < 0) continue;
    const plan = cut(sent, 'gsm7', shift, opts);
    if (best === null || plan.segments < best.segments) best = plan;
  }
  best ??= cut(sent, 'ucs2', DEFAULT_SHIFT, opts);
  const withinLimit = best.segments <= maxParts;
  if (!withinLimit && !opts.allowOverLimit) {
    throw new ValidationError(
      `Message is too long: it needs ${best.segments} SMS segments and the limit is ${maxParts} segments`,
    );
  }
  return {
    encoding: best.encoding,
    segments: best.segments,
    charsLeftInLastSegment: best.charsLeftInLastSegment,
    unitsPerSegment: best.unitsPerSegment,
    units: best.units,
    characters: countCodePoints(sent),
    shift: best.shift,
    smartEncoded,
    maxParts,
    withinLimit,
    parts: best.parts,
    gsm7Shift: best.gsm7Shift,
  };
}

/** Default tables first, so a national table is used only when it saves a part. */
function candidates(opts: SegmentOptions): Gsm7Shift[] {
  const out: Gsm7Shift[] = [DEFAULT_SHIFT];
  for (const name of opts.nationalLanguages ?? []) {
    const id = NATIONAL_LANGUAGES[name];
    if (hasTable(id, 'single')) out.push({ locking: 0, single: id });
    if (hasTable(id, 'locking')) out.push({ locking: id, single: 0 }, { locking: id, single: id });
  }
  return out;
}

/** Room per part, in septets or code units, for a header of this shape. */
export function partCapacity(gsm7: boolean, spec: UdhSpec): number {
  return octetsToUnits(gsm7, USER_DATA_OCTETS - udhLength(spec));
}

function octetsToUnits(gsm7: boolean, octets: number): number {
  return gsm7 ? Math.floor((octets * 8) / 7) : Math.floor(octets / 2);
}

function cut(text: string, encoding: 'gsm7' | 'ucs2', shift: Gsm7Shift, opts: SegmentOptions): Cut {
  const gsm7 = encoding === 'gsm7';
  const base: UdhSpec = {
    ...(opts.ports ? { ports: opts.ports } : {}),
    ...(shift.single ? { singleShift: shift.single } : {}),
    ...(shift.locking ? { lockingShift: shift.locking } : {}),
  };
  const map = gsm7 ? encodingMap(shift) : null;
  const units = cost(map, text, 0, text.length);
  const single = partCapacity(gsm7, base);
  if (units <= single) return result(encoding, shift, units, [text], single, single - units);
  const baseOctets = udhLength(base);
  const concatOctets = (baseOctets === 0 ? 1 : 0) + (opts.ref16 ? 6 : 5);
  const capacity = octetsToUnits(gsm7, USER_DATA_OCTETS - baseOctets - concatOctets);
  const parts: string[] = [];
  let partStart = 0;
  let used = 0;
  if (!JOINS.test(text)) {
    // Every cluster is one code point, at most 2 units: it always fits an empty part.
    for (let i = 0; i < text.length; ) {
      const next = codePointEnd(text, i);
      const c = map === null ? next - i : septetCost(map, text.charCodeAt(i));
      if (used + c > capacity) {
        parts.push(text.slice(partStart, i));
        partStart = i;
        used = 0;
      }
      used += c;
      i = next;
    }
    parts.push(text.slice(partStart));
    return result(encoding, shift, units, parts, capacity, capacity - used);
  }
  const ends = clusterEnds(text);
  let pos = 0;
  for (let k = 0; pos < text.length; k++) {
    const end = ends[k] as number;
    const c = cost(map, text, pos, end);
    if (used + c <= capacity) {
      used += c;
    } else if (c <= capacity) {
      // A cluster that fits a part on its own moves to the next part whole.
      parts.push(text.slice(partStart, pos));
      partStart = pos;
      used = c;
    } else {
      // A cluster larger than a part is cut between code points (never inside a pair).
      for (let i = pos; i < end; ) {
        const next = codePointEnd(text, i);
        const pc = cost(map, text, i, next);
        if (used + pc > capacity) {
          parts.push(text.slice(partStart, i));
          partStart = i;
          used = 0;
        }
        used += pc;
        i = next;
      }
    }
    pos = end;
  }
  parts.push(text.slice(partStart));
  return result(encoding, shift, units, parts, capacity, capacity - used);
}

type Cut = Omit<SegmentPlan, 'smartEncoded' | 'maxParts' | 'withinLimit' | 'characters'>;

// Built field by field: object spread on this hot path costs more than the whole cut.
function result(encoding: 'gsm7' | 'ucs2', shift: Gsm7Shift, units: number, parts: string[], per: number, left: number): Cut {
  const named = shift.locking || shift.single ? { locking: nameOf(shift.locking), single: nameOf(shift.single) } : null;
  return {
    encoding,
    segments: parts.length,
    charsLeftInLastSegment: left,
    unitsPerSegment: per,
    units,
    shift: named,
    parts,
    gsm7Shift: shift,
  };
}

/** Septets (with a map) or code units (without) that text[from, to) takes. */
function cost(map: Int16Array | null, text: string, from: number, to: number): number {
  if (map === null) return to - from;
  let n = 0;
  for (let i = from; i < to; i++) n += septetCost(map, text.charCodeAt(i));
  return n;
}

function codePointEnd(text: string, i: number): number {
  const u = text.charCodeAt(i);
  if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return i + 2;
  }
  return i + 1;
}

/**
 * Code points that can join a grapheme cluster with a neighbour (UAX #29: Extend, ZWJ,
 * SpacingMark, Prepend, Regional_Indicator, Hangul jamo). Text without any of them
 * clusters exactly by code point, which is much cheaper than Intl.Segmenter.
 */
const JOINS =
  /[\p{M}\u200C\u200D\p{RI}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}]/u;
let graphemes: Intl.Segmenter | undefined;

/** End offsets of grapheme clusters, except that CR LF counts as two characters, as carriers count it. */
function clusterEnds(text: string): number[] {
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  const ends: number[] = [];
  for (const { segment, index } of graphemes.segment(text)) {
    if (segment === '\r\n') ends.push(index + 1);
    ends.push(index + segment.length);
  }
  return ends;
}

function nameOf(id: number): NationalLanguage | null {
  if (id === 0) return null;
  for (const [name, value] of Object.entries(NATIONAL_LANGUAGES)) if (value === id) return name as NationalLanguage;
  return null;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u < 0xd800 || u > 0xdbff || i + 1 >= text.length) n++;
    else {
      const next = text.charCodeAt(i + 1);
      n++;
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return n;
}
