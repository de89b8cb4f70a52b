/** SMS-STATUS-REPORT (3GPP TS 23.040 §9.2.2.3) and TP-ST (§9.2.3.15). */
import { encodeAddress, encodeSmsc, readAddress, type Address } from './address.ts';
import { bytesToHex, type PduReader } from './bytes.ts';
import { decodeDcs, type Dcs } from './dcs.ts';
import { checkByte } from './message-parts.ts';
import { PduError } from './pdu-error.ts';
import { encodeScts, readScts } from './scts.ts';
import type { DecodedStatusReport, DeliveryStatus } from './types.ts';
import { readUserData } from './user-data.ts';

export interface StatusReportOptions {
  /** TP-MR of the SUBMIT being reported on. */
  messageRef: number;
  recipient: string;
  /** When the service centre received the SUBMIT. */
  scts: Date;
  /** When the status was reached. */
  discharge: Date;
  /** TP-ST: 0 delivered, 0x20–0x3F still trying, 0x40–0x7F failed. */
  status: number;
  tzOffsetMinutes?: number;
  smsc?: string;
}

export function encodeStatusReport(opts: StatusReportOptions): string {
  const mr = checkByte('messageRef', opts.messageRef, 0);
  const st = checkByte('status', opts.status, 0);
  const tz = opts.tzOffsetMinutes ?? 0;
  const tpdu = [
    0x06, // SMS-STATUS-REPORT, no more messages, reporting on a SUBMIT
    mr,
    ...encodeAddress(opts.recipient, 'recipient'),
    ...encodeScts(opts.scts, tz),
    ...encodeScts(opts.discharge, tz),
    st,
  ];
  return bytesToHex(encodeSmsc(opts.smsc)) + bytesToHex(tpdu);
}

const KNOWN: Readonly<Record<number, string>> = {
  0x00: 'received by the recipient',
  0x01: 'forwarded, delivery not confirmed',
  0x02: 'replaced by the service centre',
  0x20: 'congestion',
  0x21: 'recipient busy',
  0x22: 'no response from the recipient',
  0x23: 'service rejected',
  0x24: 'quality of service not available',
  0x25: 'error in the recipient',
  0x40: 'remote procedure error',
  0x41: 'incompatible destination',
  0x42: 'connection rejected by the recipient',
  0x43: 'not obtainable',
  0x44: 'quality of service not available',
  0x45: 'no interworking available',
  0x46: 'validity period expired',
  0x47: 'deleted by the originating SME',
  0x48: 'deleted by service centre administration',
  0x49: 'message does not exist',
  0x60: 'congestion',
  0x61: 'recipient busy',
  0x62: 'no response from the recipient',
  0x63: 'service rejected',
  0x64: 'quality of service not available',
  0x65: 'error in the recipient',
};

/** Maps TP-ST to an outcome; reserved values (0x80 and up) are failures, as "service rejected". */
export function deliveryStatus(raw: number): DeliveryStatus {
  const outcome = raw < 0x20 ? 'delivered' : raw < 0x40 ? 'pending' : 'failed';
  const description =
    KNOWN[raw] ??
    (raw < 0x20
      ? 'delivered (service centre specific)'
      : raw < 0x40
        ? 'temporary error, still trying'
        : raw < 0x60
          ? 'permanent error'
          : raw < 0x80
            ? 'temporary error, no longer trying'
            : 'reserved status');
  return { raw, outcome, description };
}

/** Decodes the TPDU after its first octet. */
export function readStatusReport(r: PduReader, first: number, smsc: Address | null, tpduLength: number): DecodedStatusReport {
  const messageRef = r.byte('TP-MR');
  const recipient = readAddress(r, 'TP-RA');
  const timestamp = readScts(r, 'TP-SCTS');
  const discharge = readScts(r, 'TP-DT');
  const status = deliveryStatus(r.byte('TP-ST'));
  let pid: number | null = null;
  let dcs: Dcs | null = null;
  let text: string | null = null;
  // TP-PI and what it announces are optional; a PI of 0xFF is padding some networks send.
  // They are read on a best-effort basis: the status is what matters, and is already in hand.
  try {
    const pi = r.remaining > 0 ? r.byte('TP-PI') : 0xff;
    if (pi !== 0xff) {
      if (pi & 0x01) pid = r.byte('TP-PID');
      if (pi & 0x02) dcs = decodeDcs(r.byte('TP-DCS'));
      if (pi & 0x04) text = readUserData(r, (first & 0x40) !== 0, dcs ?? decodeDcs(0)).text;
    }
  } catch (err) {
    if (!(err instanceof PduError)) throw err;
  }
  return {
    type: 'status-report',
    smsc,
    tpduLength,
    messageRef,
    recipient,
    timestamp,
    discharge,
    status,
    moreMessagesToSend: (first & 0x04) === 0,
    forCommand: (first & 0x20) !== 0,
    pid,
    dcs,
    text,
  };
}
