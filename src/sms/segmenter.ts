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
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { parts, gsm7Shift, ...info } = planSegments(text, opts);
  return info;
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
  let best: Omit<SegmentPlan, 'smartEncoded' | 'maxParts' | 'withinLimit' | 'characters'> | null = null;
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
  return { ...best, characters: countCodePoints(sent), smartEncoded, maxParts, withinLimit };
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
  const free = USER_DATA_OCTETS - udhLength(spec);
  return gsm7 ? Math.floor((free * 8) / 7) : Math.floor(free / 2);
}

function cut(text: string, encoding: 'gsm7' | 'ucs2', shift: Gsm7Shift, opts: SegmentOptions) {
  const gsm7 = encoding === 'gsm7';
  const base: UdhSpec = {
    ...(opts.ports ? { ports: opts.ports } : {}),
    ...(shift.single ? { singleShift: shift.single } : {}),
    ...(shift.locking ? { lockingShift: shift.locking } : {}),
  };
  const map = gsm7 ? encodingMap(shift) : null;
  const cost = (s: string): number => {
    if (map === null) return s.length;
    let n = 0;
    for (let i = 0; i < s.length; i++) n += septetCost(map, s.charCodeAt(i));
    return n;
  };
  const units = cost(text);
  const single = partCapacity(gsm7, base);
  const named = { locking: nameOf(shift.locking), single: nameOf(shift.single) };
  const common = { encoding, units, gsm7Shift: shift, shift: shift.locking || shift.single ? named : null };
  if (units <= single) {
    return { ...common, parts: [text], segments: 1, unitsPerSegment: single, charsLeftInLastSegment: single - units };
  }
  const capacity = partCapacity(gsm7, { ...base, concat: { ref: 0, refBits: opts.ref16 ? 16 : 8, part: 1, total: 1 } });
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const cluster of clusters(text)) {
    const c = cost(cluster);
    if (used + c <= capacity) {
      current += cluster;
      used += c;
      continue;
    }
    // A cluster that fits a part on its own moves whole; a larger one is cut between code points.
    const pieces = c <= capacity ? [cluster] : Array.from(cluster);
    for (const piece of pieces) {
      const pc = cost(piece);
      if (used + pc > capacity) {
        parts.push(current);
        current = '';
        used = 0;
      }
      current += piece;
      used += pc;
    }
  }
  parts.push(current);
  return { ...common, parts, segments: parts.length, unitsPerSegment: capacity, charsLeftInLastSegment: capacity - used };
}

const COMPLEX = /[\u0300-\uFFFF]/;
let graphemes: Intl.Segmenter | undefined;

/** Grapheme clusters, except that CR LF counts as two characters, as carriers count it. */
function* clusters(text: string): Generator<string> {
  if (!COMPLEX.test(text)) {
    yield* text;
    return;
  }
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(text)) {
    if (segment === '\r\n') {
      yield '\r';
      yield '\n';
    } else {
      yield segment;
    }
  }
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
