/**
 * Segmentation: cheapest exact encoding, the parts a text is cut into, and the counts
 * the send API, metering and the dashboard show (TS 23.040 §9.2.3.24.1, TS 23.038 §6.2.1.2).
 */
import { ValidationError } from '../errors/index.ts';
import { NATIONAL_LANGUAGES, hasTable, type NationalLanguage } from './gsm7-tables.ts';
import { countCodePoints } from './clusters.ts';
import { cutGsm7, cutUcs2 } from './cut.ts';
import { DEFAULT_SHIFT, encodingMap, gsm7Length, type Gsm7Shift } from './gsm7.ts';
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
  /** The text as sent (after smart encoding). */
  readonly text: string;
  /** Where each part of `text` ends (UTF-16 offsets); a part starts where the one before ends. */
  readonly ends: readonly number[];
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
    const plan = cut(sent, 'gsm7', shift, opts);
    if (plan !== null && (best === null || plan.segments < best.segments)) best = plan;
  }
  best ??= cut(sent, 'ucs2', DEFAULT_SHIFT, opts) as Cut;
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
    characters: best.encoding === 'gsm7' ? sent.length : countCodePoints(sent),
    shift: best.shift,
    smartEncoded,
    maxParts,
    withinLimit,
    text: best.text,
    ends: best.ends,
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

function cut(text: string, encoding: 'gsm7' | 'ucs2', shift: Gsm7Shift, opts: SegmentOptions): Cut | null {
  const gsm7 = encoding === 'gsm7';
  const base: UdhSpec = {
    ...(opts.ports ? { ports: opts.ports } : {}),
    ...(shift.single ? { singleShift: shift.single } : {}),
    ...(shift.locking ? { lockingShift: shift.locking } : {}),
  };
  const single = partCapacity(gsm7, base);
  const baseOctets = udhLength(base);
  const concatOctets = (baseOctets === 0 ? 1 : 0) + (opts.ref16 ? 6 : 5);
  const capacity = octetsToUnits(gsm7, USER_DATA_OCTETS - baseOctets - concatOctets);
  const cuts = gsm7 ? cutGsm7(text, encodingMap(shift), single, capacity) : cutUcs2(text, single, capacity);
  if (cuts === null) return null;
  const per = cuts.ends.length === 1 ? single : capacity;
  // Built field by field: object spread on this hot path costs more than the whole cut.
  const named = shift.locking || shift.single ? { locking: nameOf(shift.locking), single: nameOf(shift.single) } : null;
  return {
    encoding,
    segments: cuts.ends.length,
    charsLeftInLastSegment: per - cuts.lastUnits,
    unitsPerSegment: per,
    units: cuts.units,
    shift: named,
    text,
    ends: cuts.ends,
    gsm7Shift: shift,
  };
}

type Cut = Omit<SegmentPlan, 'smartEncoded' | 'maxParts' | 'withinLimit' | 'characters'>;

function nameOf(id: number): NationalLanguage | null {
  if (id === 0) return null;
  for (const [name, value] of Object.entries(NATIONAL_LANGUAGES)) if (value === id) return name as NationalLanguage;
  return null;
}
