/** User data header information elements (3GPP TS 23.040 §9.2.3.24). */
import type { PduReader } from './bytes.ts';

export const IEI_CONCAT_8 = 0x00;
export const IEI_PORTS_8 = 0x04;
export const IEI_PORTS_16 = 0x05;
export const IEI_CONCAT_16 = 0x08;
export const IEI_SINGLE_SHIFT = 0x24;
export const IEI_LOCKING_SHIFT = 0x25;

export interface UdhElement {
  readonly iei: number;
  readonly data: Uint8Array;
}

export interface Concat {
  readonly ref: number;
  readonly refBits: 8 | 16;
  /** 1-based part number. */
  readonly part: number;
  readonly total: number;
}

/** Application port addressing (WAP push uses destination 2948). */
export interface Ports {
  readonly destination: number;
  readonly source: number;
  readonly bits: 8 | 16;
}

export interface Udh {
  readonly elements: readonly UdhElement[];
  readonly concat?: Concat;
  readonly ports?: Ports;
  /** National language ids from the shift elements. */
  readonly singleShift?: number;
  readonly lockingShift?: number;
}

export interface UdhSpec {
  concat?: Concat;
  ports?: Ports;
  singleShift?: number;
  lockingShift?: number;
}

/**
 * Reads a UDH whose length octet is next in `r`. Elements that are unknown or whose
 * length does not fit their type are kept but not interpreted; a concatenation element
 * with a zero total or an out-of-range part is ignored, as the spec requires.
 */
export function readUdh(r: PduReader): Udh {
  const length = r.byte('UDH length');
  const end = r.pos + length;
  if (end > r.bytes.length) r.fail('PDU_TRUNCATED', `UDH length ${length} runs past the user data`);
  const elements: UdhElement[] = [];
  let udh: UdhSpec = {};
  while (r.pos < end) {
    const iei = r.byte('UDH element id');
    const len = r.byte('UDH element length');
    if (r.pos + len > end) r.fail('PDU_INVALID_FIELD', `UDH element 0x${iei.toString(16)} runs past the header`);
    const data = r.take(len, 'UDH element');
    elements.push({ iei, data });
    udh = { ...udh, ...interpret(iei, data) };
  }
  return { elements, ...udh };
}

function interpret(iei: number, d: Uint8Array): UdhSpec {
  switch (iei) {
    case IEI_CONCAT_8:
      return d.length === 3 ? concat((d[0] as number), 8, (d[2] as number), (d[1] as number)) : {};
    case IEI_CONCAT_16:
      return d.length === 4 ? concat(((d[0] as number) << 8) | (d[1] as number), 16, (d[3] as number), (d[2] as number)) : {};
    case IEI_PORTS_8:
      return d.length === 2 ? { ports: { destination: (d[0] as number), source: (d[1] as number), bits: 8 } } : {};
    case IEI_PORTS_16:
      return d.length === 4 ? { ports: { destination: ((d[0] as number) << 8) | (d[1] as number), source: ((d[2] as number) << 8) | (d[3] as number), bits: 16 } } : {};
    case IEI_SINGLE_SHIFT:
      return d.length === 1 ? { singleShift: (d[0] as number) } : {};
    case IEI_LOCKING_SHIFT:
      return d.length === 1 ? { lockingShift: (d[0] as number) } : {};
    default:
      return {};
  }
}

function concat(ref: number, refBits: 8 | 16, part: number, total: number): UdhSpec {
  if (total === 0 || part === 0 || part > total) return {};
  return { concat: { ref, refBits, part, total } };
}

/** Octets a UDH with these elements takes, its length octet included; 0 when empty. */
export function udhLength(spec: UdhSpec): number {
  let n = 0;
  if (spec.ports) n += spec.ports.bits === 8 ? 4 : 6;
  if (spec.concat) n += spec.concat.refBits === 8 ? 5 : 6;
  if (spec.singleShift) n += 3;
  if (spec.lockingShift) n += 3;
  return n === 0 ? 0 : n + 1;
}

/** Encodes a UDH, length octet included; empty when there is nothing to say. */
export function buildUdh(spec: UdhSpec): Uint8Array {
  const out: number[] = [0];
  const { ports, concat: c } = spec;
  if (ports?.bits === 8) out.push(IEI_PORTS_8, 2, ports.destination & 0xff, ports.source & 0xff);
  if (ports?.bits === 16) {
    out.push(IEI_PORTS_16, 4, ports.destination >> 8, ports.destination & 0xff, ports.source >> 8, ports.source & 0xff);
  }
  if (c?.refBits === 8) out.push(IEI_CONCAT_8, 3, c.ref & 0xff, c.total, c.part);
  if (c?.refBits === 16) out.push(IEI_CONCAT_16, 4, (c.ref >> 8) & 0xff, c.ref & 0xff, c.total, c.part);
  if (spec.singleShift) out.push(IEI_SINGLE_SHIFT, 1, spec.singleShift);
  if (spec.lockingShift) out.push(IEI_LOCKING_SHIFT, 1, spec.lockingShift);
  if (out.length === 1) return new Uint8Array(0);
  out[0] = out.length - 1;
  return Uint8Array.from(out);
}

/**
 * The headers of a concatenated set, one per part: built once, then only the part
 * number (the concatenation element's last octet) differs.
 */
export function concatHeaders(base: UdhSpec, ref: number, refBits: 8 | 16, total: number): Uint8Array[] {
  const first = buildUdh({ ...base, concat: { ref, refBits, part: 1, total } });
  const partAt = 1 + (base.ports ? (base.ports.bits === 8 ? 4 : 6) : 0) + (refBits === 8 ? 4 : 5);
  const out = [first];
  for (let part = 2; part <= total; part++) {
    const udh = first.slice();
    udh[partAt] = part;
    out.push(udh);
  }
  return out;
}
