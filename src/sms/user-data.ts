/** TP-UDL + TP-UD: the optional header, then septets, octets or UCS-2 (TS 23.040 §9.2.3.16, §9.2.3.24). */
import { PduReader, upperHex } from './bytes.ts';
import type { Dcs } from './dcs.ts';
import { decodeGsm7, packText } from './gsm7.ts';
import { septetBytes, unpackSeptets } from './septets.ts';
import { decodeUcs2 } from './ucs2.ts';
import { readUdh, type Udh } from './udh.ts';

export interface UserData {
  readonly udh: Udh | null;
  /** Null for 8-bit data and for compressed text, which is reported, not guessed at. */
  readonly text: string | null;
  /** The payload after the header, for 8-bit and compressed user data. */
  readonly data: Uint8Array | null;
}

/** Reads TP-UDL and TP-UD; trailing octets after the user data are ignored. */
export function readUserData(r: PduReader, udhi: boolean, dcs: Dcs): UserData {
  const udlAt = r.pos;
  const udl = r.byte('TP-UDL');
  const septets = dcs.alphabet === 'gsm7' && !dcs.compressed;
  if (septets ? udl > 160 : udl > 140) r.fail('PDU_INVALID_FIELD', `TP-UDL ${udl} is over the maximum`, udlAt);
  const udStart = r.pos;
  const ud = r.take(septets ? septetBytes(udl) : udl, 'TP-UD');
  let udh: Udh | null = null;
  let headerBytes = 0;
  // TP-UDHI with no user data at all is an empty message, not a malformed one (phones send
  // them; rejecting one left it on the modem, read again at every listing).
  if (udhi && ud.length > 0) {
    const hr = new PduReader(ud, r.base + udStart);
    udh = readUdh(hr);
    headerBytes = hr.pos;
  }
  if (!septets) {
    const body = ud.subarray(headerBytes);
    if (dcs.alphabet === 'ucs2' && !dcs.compressed) return { udh, text: decodeUcs2(body), data: null };
    return { udh, text: null, data: Uint8Array.from(body) };
  }
  const headerSeptets = Math.ceil((headerBytes * 8) / 7);
  if (headerSeptets > udl) r.fail('PDU_INVALID_FIELD', 'the UDH is longer than TP-UDL', udStart);
  const fill = headerSeptets * 7 - headerBytes * 8;
  const codes = unpackSeptets(ud.subarray(headerBytes), udl - headerSeptets, fill);
  const shift = { locking: udh?.lockingShift ?? 0, single: udh?.singleShift ?? 0 };
  return { udh, text: decodeGsm7(codes, shift), data: null };
}

/**
 * Where the writers below assemble one part's TP-UDL + TP-UD before it becomes hex. The
 * codec is synchronous, so one buffer serves every call and a part allocates nothing
 * but its hex string.
 */
const scratch = Buffer.alloc(1 + 140);

/**
 * TP-UDL + TP-UD, as hex, for GSM-7 text[from, to), which `map` encodes in full and
 * which fits one part: the header (`udh`, length octet included, or empty), fill bits to
 * the next septet boundary, then the septets packed straight from the text.
 */
export function gsm7UserData(udh: Uint8Array, text: string, from: number, to: number, map: Int16Array): string {
  scratch.set(udh, 1);
  const headerSeptets = Math.ceil((udh.length * 8) / 7);
  const fill = headerSeptets * 7 - udh.length * 8;
  const septets = packText(text, from, to, map, scratch, 1 + udh.length, fill);
  scratch[0] = headerSeptets + septets;
  return upperHex(scratch, 1 + udh.length + septetBytes(septets, fill));
}

/** TP-UDL + TP-UD, as hex, for text[from, to) as UTF-16BE code units. */
export function ucs2UserData(udh: Uint8Array, text: string, from: number, to: number): string {
  const length = 1 + udh.length + 2 * (to - from);
  scratch[0] = length - 1;
  scratch.set(udh, 1);
  for (let i = from, o = 1 + udh.length; i < to; i++, o += 2) {
    const u = text.charCodeAt(i);
    scratch[o] = u >> 8;
    scratch[o + 1] = u & 0xff;
  }
  return upperHex(scratch, length);
}

/** TP-UDL + TP-UD, as hex, for 8-bit data. */
export function octetUserData(udh: Uint8Array, payload: Uint8Array): string {
  scratch[0] = udh.length + payload.length;
  scratch.set(udh, 1);
  scratch.set(payload, 1 + udh.length);
  return upperHex(scratch, 1 + udh.length + payload.length);
}

/** The user-data fields every DELIVER and SUBMIT decode shares. */
export function readPayload(r: PduReader, udhi: boolean, pid: number, dcs: Dcs) {
  const ud = readUserData(r, udhi, dcs);
  const u = ud.udh;
  const shift = u && (u.lockingShift || u.singleShift) ? { locking: u.lockingShift ?? 0, single: u.singleShift ?? 0 } : null;
  return {
    pid,
    dcs,
    encoding: dcs.alphabet,
    text: ud.text,
    data: ud.data,
    ...(dcs.compressed ? { unsupported: 'compressed' as const } : {}),
    udh: u?.elements ?? [],
    concat: u?.concat ?? null,
    ports: u?.ports ?? null,
    shift,
  };
}
