/** MMS encapsulation: whole PDUs to and from bytes, and typed views of the ones the gateway meets. */
import { WspReader, WspWriter } from './bytes.ts';
import { readHeaders, writeHeaders } from './headers.ts';
import { MmsError } from './mms-error.ts';
import { readMultipart, writeMultipart } from './multipart.ts';
import type { MmsMessageType, MmsPdu } from './types.ts';
import { MULTIPART_RELATED, writeContentType } from './wsp.ts';

function isMultipart(mediaType: string): boolean {
  return mediaType.startsWith('application/vnd.wap.multipart.') || mediaType.startsWith('multipart/');
}

/** Decodes any MMS PDU. Throws MmsError (only) when the bytes are not a well-formed MMS PDU. */
export function decodeMms(bytes: Uint8Array): MmsPdu {
  const r = new WspReader(bytes);
  if (r.remaining === 0 || bytes[0] !== 0x8c) r.fail('MMS_INVALID_FIELD', 'an MMS PDU starts with X-Mms-Message-Type (0x8C)');
  const pdu: Partial<MmsPdu> = {};
  const hasBody = readHeaders(r, pdu);
  if (pdu.type === undefined) r.fail('MMS_INVALID_FIELD', 'no X-Mms-Message-Type');
  if (pdu.version === undefined) r.fail('MMS_INVALID_FIELD', 'no X-Mms-MMS-Version', r.end);
  if (hasBody && pdu.contentType) {
    if (isMultipart(pdu.contentType.mediaType)) pdu.parts = readMultipart(r);
    else pdu.body = r.take(r.remaining, 'body');
  }
  return pdu as MmsPdu;
}

/** Encodes a PDU: its headers, then Content-Type and the body when it has parts or a body. */
export function encodeMms(pdu: MmsPdu): Uint8Array {
  const w = new WspWriter();
  writeHeaders(w, pdu);
  if (pdu.parts !== undefined || pdu.body !== undefined || pdu.contentType !== undefined) {
    const ct = pdu.contentType ?? { mediaType: MULTIPART_RELATED, params: {} };
    w.byte(0x84);
    writeContentType(w, ct);
    if (pdu.parts !== undefined) writeMultipart(w, pdu.parts);
    else if (pdu.body !== undefined) w.bytes(pdu.body);
  }
  return w.finish();
}

function expect<T extends MmsMessageType>(bytes: Uint8Array, type: T, required: readonly (keyof MmsPdu)[]): MmsPdu & { type: T } {
  const pdu = decodeMms(bytes);
  if (pdu.type !== type) throw new MmsError('MMS_UNSUPPORTED', 0, `expected ${type}, got ${pdu.type}`);
  for (const key of required) {
    if (pdu[key] === undefined) throw new MmsError('MMS_INVALID_FIELD', bytes.length, `${type} without its required ${key}`);
  }
  return pdu as MmsPdu & { type: T };
}

export interface SendConf {
  transactionId: string;
  /** X-Mms-Response-Status octet (128 = ok). */
  responseStatus: number;
  responseText?: string;
  messageId?: string;
}

export function decodeSendConf(bytes: Uint8Array): SendConf {
  const p = expect(bytes, 'm-send-conf', ['responseStatus']);
  return {
    transactionId: p.transactionId ?? '',
    responseStatus: p.responseStatus as number,
    ...(p.responseText !== undefined && { responseText: p.responseText }),
    ...(p.messageId !== undefined && { messageId: p.messageId }),
  };
}

export interface NotificationInd {
  transactionId: string;
  contentLocation: string;
  messageSize: number;
  expiry: MmsPdu['expiry'];
  /** Null when the sender is hidden. */
  from: string | null;
  subject?: string;
  messageClass?: string;
}

export function decodeNotificationInd(bytes: Uint8Array): NotificationInd {
  return toNotification(expect(bytes, 'm-notification-ind', ['transactionId', 'contentLocation']));
}

export function toNotification(p: MmsPdu): NotificationInd {
  return {
    transactionId: p.transactionId ?? '',
    contentLocation: p.contentLocation ?? '',
    messageSize: p.messageSize ?? 0,
    expiry: p.expiry,
    from: p.from ?? null,
    ...(p.subject !== undefined && { subject: p.subject }),
    ...(p.messageClass !== undefined && { messageClass: p.messageClass }),
  };
}

export function decodeRetrieveConf(bytes: Uint8Array): MmsPdu & { type: 'm-retrieve-conf' } {
  return expect(bytes, 'm-retrieve-conf', []);
}

export interface DeliveryInd {
  messageId: string;
  to: string;
  date?: Date;
  status: NonNullable<MmsPdu['status']>;
}

export function decodeDeliveryInd(bytes: Uint8Array): DeliveryInd {
  return toDeliveryInd(expect(bytes, 'm-delivery-ind', ['messageId', 'status']));
}

export function toDeliveryInd(p: MmsPdu): DeliveryInd {
  return { messageId: p.messageId ?? '', to: p.to?.[0] ?? '', ...(p.date && { date: p.date }), status: p.status ?? 'indeterminate' };
}

/** m-notifyresp-ind: tells the MMSC what became of a notification (retrieved, deferred, rejected…). */
export function encodeNotifyRespInd(o: { transactionId: string; status: NonNullable<MmsPdu['status']>; reportAllowed?: boolean; version?: string }): Uint8Array {
  return encodeMms({
    type: 'm-notifyresp-ind',
    transactionId: o.transactionId,
    version: o.version ?? '1.2',
    status: o.status,
    ...(o.reportAllowed !== undefined && { reportAllowed: o.reportAllowed }),
  });
}

/** m-acknowledge-ind: confirms a message fetched immediately (the MMSC may send a delivery report). */
export function encodeAcknowledgeInd(o: { transactionId: string; reportAllowed?: boolean; version?: string }): Uint8Array {
  return encodeMms({
    type: 'm-acknowledge-ind',
    transactionId: o.transactionId,
    version: o.version ?? '1.2',
    ...(o.reportAllowed !== undefined && { reportAllowed: o.reportAllowed }),
  });
}

/** The meaning of an X-Mms-Response-Status / X-Mms-Retrieve-Status octet. */
export function responseStatusInfo(code: number): { ok: boolean; retryable: boolean; description: string } {
  const names: Record<number, string> = {
    128: 'ok', 129: 'unspecified error', 130: 'service denied', 131: 'message format corrupt', 132: 'sending address unresolved',
    133: 'message not found', 134: 'network problem', 135: 'content not accepted', 136: 'unsupported message',
    192: 'transient failure', 193: 'transient: sending address unresolved', 194: 'transient: message not found',
    195: 'transient: network problem', 196: 'transient: partial success', 224: 'permanent failure',
    225: 'permanent: service denied', 226: 'permanent: message format corrupt', 227: 'permanent: sending address unresolved',
    228: 'permanent: message not found', 229: 'permanent: content not accepted', 230: 'permanent: reply charging limitations not met',
    231: 'permanent: reply charging request not accepted', 232: 'permanent: reply charging forwarding denied',
    233: 'permanent: reply charging not supported', 234: 'permanent: address hiding not supported', 235: 'permanent: lack of prepaid',
  };
  const transient = (code >= 192 && code < 224) || code === 134;
  return { ok: code === 128, retryable: transient, description: names[code] ?? `status ${code}` };
}
