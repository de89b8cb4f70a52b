/** Turns a text or a binary payload into per-part user data, shared by the SUBMIT and DELIVER encoders. */
import { ValidationError } from '../errors/index.ts';
import type { Alphabet } from './dcs.ts';
import { encodingMap } from './gsm7.ts';
import { DEFAULT_MAX_PARTS, planSegments, type SegmentOptions } from './segmenter.ts';
import { buildUdh, concatHeaders, udhLength, type Ports, type UdhSpec } from './udh.ts';
import { gsm7UserData, octetUserData, ucs2UserData } from './user-data.ts';

export interface BodyOptions extends SegmentOptions {
  /** The message text; give either `text` or `data`. */
  text?: string;
  /** 8-bit binary user data (WAP push, for instance). */
  data?: Uint8Array;
  /** Concatenation reference; by default derived from the content, so pass a per-line counter. */
  reference?: number;
}

/** The user data of every part of one message. */
export interface EncodedBody {
  readonly alphabet: Alphabet;
  /** TP-UDHI: whether the parts start with a user data header (the same for every part). */
  readonly udhi: boolean;
  /** TP-UDL followed by TP-UD, as hex, one per part. */
  readonly userData: readonly string[];
}

export function encodeParts(opts: BodyOptions, seed: string): EncodedBody {
  if ((opts.text === undefined) === (opts.data === undefined)) {
    throw new ValidationError('give exactly one of text and data');
  }
  if (opts.ports) checkPorts(opts.ports);
  const refBits = opts.ref16 ? 16 : 8;
  if (opts.data !== undefined) return dataParts(opts, opts.data, refBits, seed);
  const plan = planSegments(opts.text as string, opts);
  const base: UdhSpec = {
    ...(opts.ports ? { ports: opts.ports } : {}),
    ...(plan.gsm7Shift.single ? { singleShift: plan.gsm7Shift.single } : {}),
    ...(plan.gsm7Shift.locking ? { lockingShift: plan.gsm7Shift.locking } : {}),
  };
  const { text, ends } = plan;
  const total = ends.length;
  const ref = total > 1 ? reference(opts.reference, refBits, seed, opts.text as string) : 0;
  const map = plan.encoding === 'gsm7' ? encodingMap(plan.gsm7Shift) : null;
  const udhs = total > 1 ? concatHeaders(base, ref, refBits, total) : [buildUdh(base)];
  const userData: string[] = [];
  for (let i = 0, from = 0; i < total; i++) {
    const to = ends[i] as number;
    const udh = udhs[i] as Uint8Array;
    userData.push(map === null ? ucs2UserData(udh, text, from, to) : gsm7UserData(udh, text, from, to, map));
    from = to;
  }
  return { alphabet: plan.encoding, udhi: (udhs[0] as Uint8Array).length > 0, userData };
}

function dataParts(opts: BodyOptions, data: Uint8Array, refBits: 8 | 16, seed: string): EncodedBody {
  const base: UdhSpec = opts.ports ? { ports: opts.ports } : {};
  const single = 140 - udhLength(base);
  if (data.length <= single) {
    const udh = buildUdh(base);
    return { alphabet: '8bit', udhi: udh.length > 0, userData: [octetUserData(udh, data)] };
  }
  const capacity = 140 - udhLength({ ...base, concat: { ref: 0, refBits, part: 1, total: 1 } });
  const total = Math.ceil(data.length / capacity);
  const maxParts = opts.maxParts ?? DEFAULT_MAX_PARTS;
  if (total > maxParts) {
    throw new ValidationError(`Message is too long: it needs ${total} SMS segments and the limit is ${maxParts} segments`);
  }
  const ref = reference(opts.reference, refBits, seed, String(data.length));
  const userData = concatHeaders(base, ref, refBits, total).map((udh, i) =>
    octetUserData(udh, data.subarray(i * capacity, (i + 1) * capacity)),
  );
  return { alphabet: '8bit', udhi: true, userData };
}

/** The given reference, checked; else a hash of the seed and the content, so a retry gets the same one. */
function reference(given: number | undefined, bits: 8 | 16, seed: string, content: string): number {
  const max = bits === 8 ? 0xff : 0xffff;
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0 || given > max) throw new ValidationError(`reference must be an integer from 0 to ${max}`);
    return given;
  }
  const h = hash(hash(0x811c9dc5, seed), content);
  return ((h ^ (h >>> 16)) >>> 0) & max;
}

/** FNV-1a over pairs of UTF-16 code units (half the multiplications), the length mixed in last. */
function hash(h: number, s: string): number {
  const even = s.length & ~1;
  for (let i = 0; i < even; i += 2) h = Math.imul(h ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)), 0x01000193);
  if (even < s.length) h = Math.imul(h ^ s.charCodeAt(even), 0x01000193);
  return Math.imul(h ^ s.length, 0x01000193);
}

function checkPorts(p: Ports): void {
  const max = p.bits === 8 ? 0xff : 0xffff;
  for (const [name, v] of [['destination', p.destination], ['source', p.source]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new ValidationError(`ports.${name} must be an integer from 0 to ${max}`);
  }
}

export function checkByte(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new ValidationError(`${name} must be an integer from 0 to 255`);
  return v;
}
