/** WSP push PDUs (WAP-230-WSP §8.2.4) as carried in 8-bit SMS to port 2948. */
import { WspReader, WspWriter } from './bytes.ts';
import { MmsError } from './mms-error.ts';
import { decodeMms } from './pdu.ts';
import type { MmsPdu } from './types.ts';
import { MMS_CONTENT_TYPE, readContentType, skipValue, writeContentType, type ContentType } from './wsp.ts';

export const WAP_PUSH_PORT = 2948;
export const WAP_PUSH_SOURCE_PORT = 9200;
const PUSH = 0x06;
const CONFIRMED_PUSH = 0x07;
const X_WAP_APPLICATION_ID = 0x2f;
/** x-wap-application:mms.ua */
const MMS_UA_APP_ID = 0x04;

export interface WapPush {
  transactionId: number;
  contentType: ContentType;
  /** X-Wap-Application-Id, as a number or a URN. */
  applicationId?: number | string;
  body: Uint8Array;
}

export function decodeWapPush(data: Uint8Array): WapPush {
  const r = new WspReader(data);
  const transactionId = r.byte('push transaction id');
  const type = r.byte('push PDU type');
  if (type !== PUSH && type !== CONFIRMED_PUSH) r.fail('MMS_UNSUPPORTED', `WSP PDU type 0x${type.toString(16)} is not a push`, 1);
  const h = r.window(r.uintvar('push headers length'), 'push headers');
  const push: WapPush = { transactionId, contentType: readContentType(h), body: new Uint8Array(0) };
  while (h.remaining > 0) {
    const at = h.pos;
    const b = h.byte('push header');
    if (b === (0x80 | X_WAP_APPLICATION_ID)) {
      push.applicationId = h.peek('X-Wap-Application-Id') >= 0x20 && h.peek('X-Wap-Application-Id') < 0x80 ? h.text('X-Wap-Application-Id') : h.integer('X-Wap-Application-Id');
    } else if (b >= 0x80) {
      skipValue(h);
    } else if (b >= 0x20) {
      h.pos = at;
      h.text('push header name');
      h.text('push header value');
    } else {
      h.fail('MMS_INVALID_FIELD', `0x${b.toString(16)} is not a push header`, at);
    }
  }
  push.body = r.take(r.remaining, 'push body');
  return push;
}

export function encodeWapPush(o: { transactionId: number; body: Uint8Array; contentType?: ContentType; applicationId?: number }): Uint8Array {
  const h = new WspWriter();
  writeContentType(h, o.contentType ?? { mediaType: MMS_CONTENT_TYPE, params: {} });
  h.byte(0x80 | X_WAP_APPLICATION_ID).integer(o.applicationId ?? MMS_UA_APP_ID);
  const headers = h.finish();
  return new WspWriter().byte(o.transactionId).byte(PUSH).uintvar(headers.length).bytes(headers).bytes(o.body).finish();
}

/** The MMS PDU inside a push (an m-notification-ind or an m-delivery-ind). */
export function decodeMmsPush(data: Uint8Array): { push: WapPush; pdu: MmsPdu } {
  const push = decodeWapPush(data);
  if (push.contentType.mediaType !== MMS_CONTENT_TYPE) {
    throw new MmsError('MMS_UNSUPPORTED', 3, `push content type ${push.contentType.mediaType} is not an MMS`);
  }
  return { push, pdu: decodeMms(push.body) };
}
