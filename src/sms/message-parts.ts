/** Turns a text or a binary payload into per-part user data, shared by the SUBMIT and DELIVER encoders. */
import { ValidationError } from '../errors/index.ts';
import type { Alphabet } from './dcs.ts';
import { encodeGsm7 } from './gsm7.ts';
import { DEFAULT_MAX_PARTS, planSegments, type SegmentOptions } from './segmenter.ts';
import { encodeUcs2 } from './ucs2.ts';
import { buildUdh, udhLength, type Ports, type UdhSpec } from './udh.ts';

export interface BodyOptions extends SegmentOptions {
  /** The message text; give either `text` or `data`. */
  text?: string;
  /** 8-bit binary user data (WAP push, for instance). */
  data?: Uint8Array;
  /** Concatenation reference; by default derived from the content, so pass a per-line counter. */
  reference?: number;
}

export interface EncodedPart {
  readonly udh: Uint8Array;
  readonly alphabet: Alphabet;
  /** Septets for gsm7, octets otherwise. */
  readonly payload: Uint8Array;
}

export function encodeParts(opts: BodyOptions, seed: string): EncodedPart[] {
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
  const gsm7 = plan.encoding === 'gsm7';
  const ref = plan.parts.length > 1 ? reference(opts.reference, refBits, `${seed}\u0000${opts.text}`) : 0;
  const out: EncodedPart[] = [];
  const total = plan.parts.length;
  for (let i = 0; i < total; i++) {
    const part = plan.parts[i] as string;
    out.push({
      udh: buildUdh(total > 1 ? { ...base, concat: { ref, refBits, part: i + 1, total } } : base),
      alphabet: plan.encoding,
      payload: gsm7 ? encodeGsm7(part, plan.gsm7Shift) : encodeUcs2(part),
    });
  }
  return out;
}

function dataParts(opts: BodyOptions, data: Uint8Array, refBits: 8 | 16, seed: string): EncodedPart[] {
  const base: UdhSpec = opts.ports ? { ports: opts.ports } : {};
  const single = 140 - udhLength(base);
  if (data.length <= single) return [{ udh: buildUdh(base), alphabet: '8bit', payload: data }];
  const capacity = 140 - udhLength({ ...base, concat: { ref: 0, refBits, part: 1, total: 1 } });
  const total = Math.ceil(data.length / capacity);
  const maxParts = opts.maxParts ?? DEFAULT_MAX_PARTS;
  if (total > maxParts) {
    throw new ValidationError(`Message is too long: it needs ${total} SMS segments and the limit is ${maxParts} segments`);
  }
  const ref = reference(opts.reference, refBits, `${seed}\u0000${data.length}`);
  return Array.from({ length: total }, (_, i) => ({
    udh: buildUdh({ ...base, concat: { ref, refBits, part: i + 1, total } }),
    alphabet: '8bit' as const,
    payload: data.subarray(i * capacity, (i + 1) * capacity),
  }));
}

function reference(given: number | undefined, bits: 8 | 16, seed: string): number {
  const max = bits === 8 ? 0xff : 0xffff;
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0 || given > max) throw new ValidationError(`reference must be an integer from 0 to ${max}`);
    return given;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return (h >>> 0) & max;
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
