/** SMS-DELIVER (3GPP TS 23.040 §9.2.2.1): the decoder the receive path uses, and an encoder for virtual networks. */
import { encodeAddress, encodeSmsc, readAddress, type Address } from './address.ts';
import { bytesToHex, type PduReader } from './bytes.ts';
import { decodeDcs, encodeDcs, type MessageClass } from './dcs.ts';
import { checkByte, encodeParts, type BodyOptions } from './message-parts.ts';
import { encodeScts, readScts } from './scts.ts';
import { messageClassOf } from './submit.ts';
import type { DecodedDeliver } from './types.ts';
import { readPayload } from './user-data.ts';

export interface DeliverOptions extends BodyOptions {
  /** Sender: +digits, digits, or up to 11 GSM characters for an alphanumeric sender. */
  originator: string;
  /** Service centre time stamp. */
  timestamp: Date;
  /** Zone of the time stamp, minutes east of UTC (default 0). */
  tzOffsetMinutes?: number;
  /** SMSC number for the SMSC field; empty by default. */
  smsc?: string;
  pid?: number;
  flash?: boolean;
  messageClass?: MessageClass;
  /** TP-MMS: more messages are waiting at the service centre (default false). */
  moreMessagesToSend?: boolean;
  /** TP-SRI: the sender asked for a status report. */
  statusReportIndication?: boolean;
  replyPath?: boolean;
}

/** One hex PDU (SMSC field included) per part. */
export function encodeDeliver(opts: DeliverOptions): string[] {
  const smsc = bytesToHex(encodeSmsc(opts.smsc));
  const oa = encodeAddress(opts.originator, 'originator', 'unknown', true);
  const pid = checkByte('pid', opts.pid, 0);
  const scts = encodeScts(opts.timestamp, opts.tzOffsetMinutes ?? 0);
  const messageClass = messageClassOf(opts.flash, opts.messageClass);
  const body = encodeParts(opts, opts.originator);
  let first = 0x00;
  if (!opts.moreMessagesToSend) first |= 0x04;
  if (opts.statusReportIndication) first |= 0x20;
  if (body.udhi) first |= 0x40;
  if (opts.replyPath) first |= 0x80;
  // Everything before TP-UDL is the same in every part.
  const headHex = smsc + bytesToHex([first, ...oa, pid, encodeDcs(body.alphabet, messageClass), ...scts]);
  return body.userData.map((ud) => headHex + ud);
}

/** Decodes the TPDU after its first octet. */
export function readDeliver(r: PduReader, first: number, smsc: Address | null, tpduLength: number): DecodedDeliver {
  const originator = readAddress(r, 'TP-OA');
  const pid = r.byte('TP-PID');
  const dcs = decodeDcs(r.byte('TP-DCS'));
  const timestamp = readScts(r, 'TP-SCTS');
  return {
    type: 'deliver',
    smsc,
    tpduLength,
    originator,
    timestamp,
    moreMessagesToSend: (first & 0x04) === 0,
    replyPath: (first & 0x80) !== 0,
    statusReportIndication: (first & 0x20) !== 0,
    ...readPayload(r, (first & 0x40) !== 0, pid, dcs),
  };
}
