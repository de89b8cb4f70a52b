/** SMS-SUBMIT (3GPP TS 23.040 §9.2.2.2): the encoder the send path uses, and a decoder. */
import { ValidationError } from '../errors/index.ts';
import { encodeAddress, encodeSmsc, readAddress, type Address, type AddressType } from './address.ts';
import { bytesToHex, type PduReader } from './bytes.ts';
import { decodeDcs, encodeDcs, type MessageClass } from './dcs.ts';
import { checkByte, encodeParts, type BodyOptions } from './message-parts.ts';
import { readScts } from './scts.ts';
import type { DecodedSubmit, Validity } from './types.ts';
import { readPayload } from './user-data.ts';
import { relativeValidity, relativeValidityMinutes, type ValidityOption } from './validity.ts';

/** One part ready for AT+CMGS=<tpduLength>, then `hex` and Ctrl-Z. */
export interface SubmitPdu {
  /** The whole PDU, SMSC field included. */
  readonly hex: string;
  /** TPDU octets, the SMSC field excluded. */
  readonly tpduLength: number;
}

export interface SubmitOptions extends BodyOptions {
  to: string;
  /** How digits without a leading + are typed (default unknown). */
  toType?: AddressType;
  /** SMSC number; empty (the SIM's SMSC) by default. */
  smsc?: string;
  /** TP-SRR; on by default so the network reports delivery. */
  requestStatusReport?: boolean;
  /** Relative validity period; the maximum (63 weeks) by default. */
  validity?: ValidityOption;
  /** TP-MR; 0 by default, as modems assign their own. */
  messageRef?: number;
  /** Class 0: shown at once, not stored. */
  flash?: boolean;
  messageClass?: MessageClass;
  rejectDuplicates?: boolean;
  replyPath?: boolean;
  pid?: number;
}

export function encodeSubmit(opts: SubmitOptions): SubmitPdu[] {
  const smsc = encodeSmsc(opts.smsc);
  const da = encodeAddress(opts.to, 'to', opts.toType);
  const vp = relativeValidity(opts.validity ?? 'max');
  const mr = checkByte('messageRef', opts.messageRef, 0);
  const pid = checkByte('pid', opts.pid, 0);
  const messageClass = messageClassOf(opts.flash, opts.messageClass);
  const body = encodeParts(opts, opts.to);
  let first = 0x01;
  if (opts.rejectDuplicates) first |= 0x04;
  if (vp !== null) first |= 0x10;
  if (opts.requestStatusReport ?? true) first |= 0x20;
  if (body.udhi) first |= 0x40;
  if (opts.replyPath) first |= 0x80;
  // Everything before TP-UDL is the same in every part.
  const head = [...smsc, first, mr, ...da, pid, encodeDcs(body.alphabet, messageClass)];
  if (vp !== null) head.push(vp);
  const headHex = bytesToHex(head);
  const headTpdu = head.length - smsc.length;
  return body.userData.map((ud) => ({ hex: headHex + ud, tpduLength: headTpdu + ud.length / 2 }));
}

export function messageClassOf(flash: boolean | undefined, messageClass: MessageClass | undefined): MessageClass | null {
  if (flash) return 0;
  if (messageClass === undefined) return null;
  if (![0, 1, 2, 3].includes(messageClass)) throw new ValidationError('messageClass must be 0, 1, 2 or 3');
  return messageClass;
}

/** Decodes the TPDU after its first octet. */
export function readSubmit(r: PduReader, first: number, smsc: Address | null, tpduLength: number): DecodedSubmit {
  const messageRef = r.byte('TP-MR');
  const recipient = readAddress(r, 'TP-DA');
  const pid = r.byte('TP-PID');
  const dcs = decodeDcs(r.byte('TP-DCS'));
  const validity = readValidity(r, (first >> 3) & 0x03);
  return {
    type: 'submit',
    smsc,
    tpduLength,
    messageRef,
    recipient,
    validity,
    statusReportRequested: (first & 0x20) !== 0,
    rejectDuplicates: (first & 0x04) !== 0,
    replyPath: (first & 0x80) !== 0,
    ...readPayload(r, (first & 0x40) !== 0, pid, dcs),
  };
}

function readValidity(r: PduReader, vpf: number): Validity | null {
  switch (vpf) {
    case 0:
      return null;
    case 2: {
      const raw = r.byte('TP-VP');
      return { format: 'relative', minutes: relativeValidityMinutes(raw), raw };
    }
    case 3:
      return { format: 'absolute', timestamp: readScts(r, 'TP-VP') };
    default:
      return { format: 'enhanced', raw: bytesToHex(r.take(7, 'TP-VP')) };
  }
}
