/** MMS header fields (OMA-TS-MMS_ENC §7.3): decoding into MmsPdu fields and encoding back. */
import type { WspReader, WspWriter } from './bytes.ts';
import type { MmsMessageType, MmsPdu, MmsStatus } from './types.ts';
import { charsetCode, charsetName, decodeText, readContentType, skipValue } from './wsp.ts';

export const FIELD = {
  bcc: 0x01,
  cc: 0x02,
  contentLocation: 0x03,
  contentType: 0x04,
  date: 0x05,
  deliveryReport: 0x06,
  expiry: 0x08,
  from: 0x09,
  messageClass: 0x0a,
  messageId: 0x0b,
  messageType: 0x0c,
  version: 0x0d,
  messageSize: 0x0e,
  priority: 0x0f,
  readReport: 0x10,
  reportAllowed: 0x11,
  responseStatus: 0x12,
  responseText: 0x13,
  senderVisibility: 0x14,
  status: 0x15,
  subject: 0x16,
  to: 0x17,
  transactionId: 0x18,
  retrieveStatus: 0x19,
  retrieveText: 0x1a,
} as const;

export const MESSAGE_TYPES: readonly MmsMessageType[] = [
  'm-send-req', 'm-send-conf', 'm-notification-ind', 'm-notifyresp-ind', 'm-retrieve-conf', 'm-acknowledge-ind',
  'm-delivery-ind', 'm-read-rec-ind', 'm-read-orig-ind', 'm-forward-req', 'm-forward-conf',
];
const CLASSES = ['personal', 'advertisement', 'informational', 'auto'];
const PRIORITIES = ['low', 'normal', 'high'] as const;
export const STATUSES: readonly MmsStatus[] = ['expired', 'retrieved', 'rejected', 'deferred', 'unrecognised', 'indeterminate', 'forwarded', 'unreachable'];

/** Encoded-string-value: text, or value-length + charset + text. */
export function readEncodedString(r: WspReader, field: string): string {
  if (!r.atValueLength()) return r.text(field);
  const length = r.valueLength(field);
  // Some MMSCs (T-Mobile PL) send an empty Subject as a zero value-length.
  if (length === 0) return '';
  const inner = r.window(length, field);
  const charset = charsetName(inner.integer(`${field} charset`));
  if (charset === 'iso-10646-ucs-2' || charset === 'utf-16') {
    // Two-byte text has NUL bytes inside it: the value-length, not the first NUL, ends it.
    let raw = inner.take(inner.remaining, field);
    while (raw.length >= 2 && raw[raw.length - 1] === 0 && raw[raw.length - 2] === 0) raw = raw.subarray(0, -2);
    if (raw.length % 2 === 1 && raw[raw.length - 1] === 0) raw = raw.subarray(0, -1);
    return decodeText(raw, charset);
  }
  let raw = inner.cstring(field);
  if (raw[0] === 0x7f) raw = raw.subarray(1);
  return decodeText(raw, charset);
}

export function writeEncodedString(w: WspWriter, s: string): void {
  // Plain ASCII goes as a text-string; anything else is tagged UTF-8 so every handset reads it.
  if (/^[\x20-\x7e]*$/.test(s)) w.text(s);
  else w.withLength((x) => x.integer(charsetCode('utf-8') as number).text(s));
}

function yesNo(r: WspReader, field: string): boolean {
  const b = r.byte(field);
  if (b !== 0x80 && b !== 0x81) r.fail('MMS_INVALID_VALUE', `${field}: expected yes (128) or no (129)`, r.pos - 1);
  return b === 0x80;
}

function readTime(r: WspReader, field: string): { absolute: Date } | { relativeSeconds: number } {
  const inner = r.window(r.valueLength(field), field);
  const token = inner.byte(field);
  if (token === 0x80) return { absolute: new Date(inner.longInteger(field) * 1000) };
  if (token === 0x81) return { relativeSeconds: inner.integer(field) };
  return inner.fail('MMS_INVALID_VALUE', `${field}: expected absolute (128) or relative (129)`, inner.pos - 1);
}

/** Reads headers into `pdu` up to and including Content-Type (which ends them); returns true if it was met. */
export function readHeaders(r: WspReader, pdu: Partial<MmsPdu>): boolean {
  while (r.remaining > 0) {
    const at = r.pos;
    const b = r.byte('header');
    if (b < 0x20) r.fail('MMS_INVALID_FIELD', `0x${b.toString(16)} is not a header field`, at);
    if (b < 0x80) {
      // Application header: token-text name, then a text value.
      r.pos = at;
      r.text('header name');
      r.text('header value');
      continue;
    }
    const field = b & 0x7f;
    switch (field) {
      case FIELD.messageType: {
        const t = MESSAGE_TYPES[r.byte('X-Mms-Message-Type') - 0x80];
        if (!t) r.fail('MMS_UNSUPPORTED', 'unknown X-Mms-Message-Type', r.pos - 1);
        pdu.type = t;
        break;
      }
      case FIELD.transactionId:
        pdu.transactionId = r.text('X-Mms-Transaction-Id');
        break;
      case FIELD.version: {
        const v = r.peek('X-Mms-MMS-Version') >= 0x80 ? r.byte('X-Mms-MMS-Version') & 0x7f : -1;
        pdu.version = v >= 0 ? `${(v >> 4) & 0x07}.${v & 0x0f}` : r.text('X-Mms-MMS-Version');
        break;
      }
      case FIELD.messageId:
        pdu.messageId = r.text('Message-ID');
        break;
      case FIELD.date:
        pdu.date = new Date(r.longInteger('Date') * 1000);
        break;
      case FIELD.from: {
        // The value-length is read but not trusted (as Android does): MMSCs miscount it, and
        // the token and the encoded-string-value after it delimit themselves.
        const declared = r.valueLength('From');
        if (declared === 0) r.fail('MMS_INVALID_VALUE', 'From: empty value', r.pos - 1);
        const token = r.byte('From');
        if (token === 0x81) pdu.from = null;
        else if (token === 0x80) pdu.from = readEncodedString(r, 'From');
        else r.fail('MMS_INVALID_VALUE', 'From: expected address-present (128) or insert-address (129)', r.pos - 1);
        break;
      }
      case FIELD.to:
      case FIELD.cc:
      case FIELD.bcc: {
        const key = field === FIELD.to ? 'to' : field === FIELD.cc ? 'cc' : 'bcc';
        (pdu[key] ??= []).push(readEncodedString(r, key));
        break;
      }
      case FIELD.subject:
        pdu.subject = readEncodedString(r, 'Subject');
        break;
      case FIELD.messageClass: {
        const c = r.peek('X-Mms-Message-Class');
        pdu.messageClass = c >= 0x80 ? (CLASSES[r.byte('class') - 0x80] ?? `class-${c}`) : r.text('X-Mms-Message-Class');
        break;
      }
      case FIELD.priority:
        pdu.priority = PRIORITIES[r.byte('X-Mms-Priority') - 0x80] ?? 'normal';
        break;
      case FIELD.expiry:
        pdu.expiry = readTime(r, 'X-Mms-Expiry');
        break;
      case FIELD.deliveryReport:
        pdu.deliveryReport = yesNo(r, 'X-Mms-Delivery-Report');
        break;
      case FIELD.readReport:
        pdu.readReport = yesNo(r, 'X-Mms-Read-Report');
        break;
      case FIELD.reportAllowed:
        pdu.reportAllowed = yesNo(r, 'X-Mms-Report-Allowed');
        break;
      case FIELD.senderVisibility:
        pdu.senderVisibility = r.byte('X-Mms-Sender-Visibility') === 0x80 ? 'hide' : 'show';
        break;
      case FIELD.messageSize:
        // A long-integer by the spec; some MMSCs send a small size as a short-integer.
        pdu.messageSize = r.integer('X-Mms-Message-Size');
        break;
      case FIELD.contentLocation:
        pdu.contentLocation = r.text('X-Mms-Content-Location');
        break;
      case FIELD.responseStatus:
        pdu.responseStatus = r.byte('X-Mms-Response-Status');
        break;
      case FIELD.responseText:
        pdu.responseText = readEncodedString(r, 'X-Mms-Response-Text');
        break;
      case FIELD.status:
        pdu.status = STATUSES[r.byte('X-Mms-Status') - 0x80] ?? 'unrecognised';
        break;
      case FIELD.retrieveStatus:
        pdu.retrieveStatus = r.byte('X-Mms-Retrieve-Status');
        break;
      case FIELD.retrieveText:
        pdu.retrieveText = readEncodedString(r, 'X-Mms-Retrieve-Text');
        break;
      case FIELD.contentType:
        pdu.contentType = readContentType(r);
        return true;
      default:
        skipValue(r);
    }
  }
  return false;
}

function field(w: WspWriter, f: number): WspWriter {
  return w.byte(0x80 | f);
}

/** Writes every header `pdu` has, type/transaction/version first and Content-Type excluded. */
export function writeHeaders(w: WspWriter, pdu: MmsPdu): void {
  const typeIndex = MESSAGE_TYPES.indexOf(pdu.type);
  if (typeIndex < 0) throw new RangeError(`unknown MMS message type ${pdu.type}`);
  field(w, FIELD.messageType).byte(0x80 + typeIndex);
  if (pdu.transactionId !== undefined) field(w, FIELD.transactionId).text(pdu.transactionId);
  const [major = 1, minor = 2] = pdu.version.split('.').map(Number);
  field(w, FIELD.version).shortInteger(((major & 0x07) << 4) | (minor & 0x0f));
  if (pdu.messageId !== undefined) field(w, FIELD.messageId).text(pdu.messageId);
  if (pdu.date !== undefined) field(w, FIELD.date).longInteger(Math.floor(pdu.date.getTime() / 1000));
  if (pdu.from !== undefined) {
    const from = pdu.from;
    field(w, FIELD.from).withLength((x) => (from === null ? x.byte(0x81) : (x.byte(0x80), writeEncodedString(x, from))));
  }
  for (const [key, f] of [['to', FIELD.to], ['cc', FIELD.cc], ['bcc', FIELD.bcc]] as const) {
    for (const a of pdu[key] ?? []) writeEncodedString(field(w, f), a);
  }
  if (pdu.subject !== undefined) writeEncodedString(field(w, FIELD.subject), pdu.subject);
  if (pdu.messageClass !== undefined) {
    const i = CLASSES.indexOf(pdu.messageClass);
    if (i >= 0) field(w, FIELD.messageClass).byte(0x80 + i);
    else field(w, FIELD.messageClass).text(pdu.messageClass);
  }
  if (pdu.priority !== undefined) field(w, FIELD.priority).byte(0x80 + PRIORITIES.indexOf(pdu.priority));
  if (pdu.expiry !== undefined) {
    const e = pdu.expiry;
    field(w, FIELD.expiry).withLength((x) =>
      'absolute' in e ? x.byte(0x80).longInteger(Math.floor(e.absolute.getTime() / 1000)) : x.byte(0x81).integer(e.relativeSeconds),
    );
  }
  if (pdu.deliveryReport !== undefined) field(w, FIELD.deliveryReport).byte(pdu.deliveryReport ? 0x80 : 0x81);
  if (pdu.readReport !== undefined) field(w, FIELD.readReport).byte(pdu.readReport ? 0x80 : 0x81);
  if (pdu.reportAllowed !== undefined) field(w, FIELD.reportAllowed).byte(pdu.reportAllowed ? 0x80 : 0x81);
  if (pdu.senderVisibility !== undefined) field(w, FIELD.senderVisibility).byte(pdu.senderVisibility === 'hide' ? 0x80 : 0x81);
  if (pdu.messageSize !== undefined) field(w, FIELD.messageSize).longInteger(pdu.messageSize);
  if (pdu.contentLocation !== undefined) field(w, FIELD.contentLocation).text(pdu.contentLocation);
  if (pdu.responseStatus !== undefined) field(w, FIELD.responseStatus).byte(pdu.responseStatus);
  if (pdu.responseText !== undefined) writeEncodedString(field(w, FIELD.responseText), pdu.responseText);
  if (pdu.status !== undefined) field(w, FIELD.status).byte(0x80 + STATUSES.indexOf(pdu.status));
  if (pdu.retrieveStatus !== undefined) field(w, FIELD.retrieveStatus).byte(pdu.retrieveStatus);
  if (pdu.retrieveText !== undefined) writeEncodedString(field(w, FIELD.retrieveText), pdu.retrieveText);
}

