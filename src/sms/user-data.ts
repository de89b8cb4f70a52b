/** TP-UDL + TP-UD: the optional header, then septets, octets or UCS-2 (TS 23.040 §9.2.3.16, §9.2.3.24). */
import { PduReader } from './bytes.ts';
import type { Dcs } from './dcs.ts';
import { decodeGsm7 } from './gsm7.ts';
import { packSeptets, septetBytes, unpackSeptets } from './septets.ts';
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
  if (udhi) {
    if (ud.length === 0) r.fail('PDU_INVALID_FIELD', 'TP-UDHI is set but the user data is empty', udStart);
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
 * Encodes TP-UDL and TP-UD. `payload` is septets for gsm7, octets otherwise; `udh` is a
 * whole header, length octet included, or empty.
 */
export function writeUserData(out: number[], udh: Uint8Array, gsm7: boolean, payload: Uint8Array): void {
  if (gsm7) {
    const headerSeptets = Math.ceil((udh.length * 8) / 7);
    const fill = headerSeptets * 7 - udh.length * 8;
    out.push(headerSeptets + payload.length);
    for (const b of udh) out.push(b);
    for (const b of packSeptets(payload, fill)) out.push(b);
    return;
  }
  out.push(udh.length + payload.length);
  for (const b of udh) out.push(b);
  for (const b of payload) out.push(b);
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
