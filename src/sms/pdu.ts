/** Entry point for decoding: SMSC field, TP-MTI and direction, then the TPDU's own decoder. */
import { readSmsc } from './address.ts';
import { PduReader, bytesToHex, hexToBytes } from './bytes.ts';
import { readDeliver } from './deliver.ts';
import { PduError } from './pdu-error.ts';
import { readStatusReport } from './status-report.ts';
import { readSubmit } from './submit.ts';
import type { DecodedPdu } from './types.ts';

export type Direction = 'incoming' | 'outgoing';

export interface DecodeOptions {
  /** Whether the PDU starts with an SMSC field, as +CMGR/+CMGL/+CMT print it (default true). */
  hasSmsc?: boolean;
  /**
   * Which way the message went, from the modem's stored-message status when known
   * (see `directionFromStat`). Without it, TP-MTI alone decides, which cannot tell a
   * SUBMIT from a SUBMIT-REPORT.
   */
  direction?: Direction;
}

/** Decodes a hex PDU. Malformed input throws PduError and nothing else. */
export function decodePdu(hex: string, opts: DecodeOptions = {}): DecodedPdu {
  const bytes = hexToBytes(hex);
  const r = new PduReader(bytes);
  const smsc = opts.hasSmsc === false ? null : readSmsc(r);
  const tpduLength = r.remaining;
  const first = r.byte('first octet');
  const mti = first & 0x03;
  const direction = opts.direction;
  if (direction === 'outgoing') {
    if (mti === 1) return readSubmit(r, first, smsc, tpduLength);
    const what = mti === 0 ? 'SMS-DELIVER-REPORT' : mti === 2 ? 'SMS-COMMAND' : 'TP-MTI 3 (reserved)';
    r.fail('PDU_UNSUPPORTED', `${what} is not supported`, r.pos - 1);
  }
  if (mti === 1) {
    if (direction === 'incoming') r.fail('PDU_UNSUPPORTED', 'SMS-SUBMIT-REPORT is not supported', r.pos - 1);
    return readSubmit(r, first, smsc, tpduLength);
  }
  if (mti === 2) return readStatusReport(r, first, smsc, tpduLength);
  // TS 23.040 §9.2.3.1: a reserved TP-MTI received is processed as an SMS-DELIVER.
  return readDeliver(r, first, smsc, tpduLength);
}

/**
 * Direction from a stored message's status, as AT+CMGL/AT+CMGR report it in PDU mode
 * (0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT) or text mode.
 */
export function directionFromStat(stat: number | string): Direction | undefined {
  const s = typeof stat === 'string' ? stat.trim().toUpperCase().replace(/"/g, '') : stat;
  if (s === 0 || s === 1 || s === 'REC UNREAD' || s === 'REC READ' || s === '0' || s === '1') return 'incoming';
  if (s === 2 || s === 3 || s === 'STO UNSENT' || s === 'STO SENT' || s === '2' || s === '3') return 'outgoing';
  return undefined;
}

/** TPDU octets of a hex PDU that starts with an SMSC field: the <length> of +CMT, +CDS and AT+CMGS. */
export function tpduLengthOf(hex: string): number {
  const bytes = hexToBytes(hex);
  if (bytes.length === 0) throw new PduError('PDU_TRUNCATED', 0, 'ends before SMSC length');
  const smscLength = bytes[0] as number;
  if (1 + smscLength > bytes.length) throw new PduError('PDU_TRUNCATED', 0, 'SMSC field runs past the PDU');
  return bytes.length - 1 - smscLength;
}

/**
 * The TPDU of a hex PDU that starts with an SMSC field, as uppercase hex (the SMSC field is how
 * it reached us, not part of the message); undefined when the hex is malformed.
 */
export function tpduHexOf(hex: string): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(hex);
  } catch {
    return undefined;
  }
  const smscLength = bytes[0];
  if (smscLength === undefined || 1 + smscLength > bytes.length) return undefined;
  return bytesToHex(bytes.subarray(1 + smscLength));
}
