import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MmsError,
  decodeDeliveryInd,
  decodeMms,
  decodeMmsPush,
  decodeNotificationInd,
  decodeRetrieveConf,
  decodeSendConf,
  decodeText,
  decodeWapPush,
  encodeAcknowledgeInd,
  encodeMms,
  encodeNotifyRespInd,
  encodeWapPush,
  responseStatusInfo,
  type MmsPdu,
} from '../../src/mms/pdu/index.ts';
import { decodePdu, encodeDeliver } from '../../src/sms/index.ts';

interface Golden {
  mms: { name: string; hex: string; expect: Partial<MmsPdu>; parts?: { contentType: string; name?: string; contentId?: string; text: string }[] }[];
  encode: { name: string; pdu: MmsPdu; hex: string }[];
  push: { name: string; hex: string; from: string | null; contentLocation: string }[];
  pushSms: { name: string; pdu: string; originator: string; transactionId: string; from: string; messageSize: number; contentLocation: string }[];
  pushSmsParts: { name: string; pdu: string; ref: number; part: number; total: number }[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/mms/golden.json', import.meta.url), 'utf8')) as Golden;
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('MMS golden vectors (mmsd, OMA conformance PDUs)', () => {
  for (const v of golden.mms) {
    it(`decodes ${v.name}`, () => {
      const pdu = decodeMms(bytes(v.hex));
      expect(pdu).toMatchObject(v.expect);
      for (const [i, want] of (v.parts ?? []).entries()) {
        const part = pdu.parts?.[i];
        expect(part).toMatchObject({ contentType: want.contentType, ...(want.name && { name: want.name }), ...(want.contentId && { contentId: want.contentId }) });
        expect(decodeText(part!.data, part!.charset)).toBe(want.text);
      }
    });
  }

  for (const v of golden.encode) {
    it(`encodes ${v.name} byte for byte`, () => {
      expect(hex(encodeMms(v.pdu))).toBe(v.hex);
      expect(hex(encodeNotifyRespInd({ transactionId: v.pdu.transactionId!, status: 'retrieved' }))).toBe(v.hex);
    });
  }

  it('reads a rejected m-send-conf as a permanent failure', () => {
    const conf = decodeSendConf(bytes(golden.mms.find((v) => v.name === 'mmsd-send-conf-2')!.hex));
    expect(conf.responseStatus).toBe(226);
    expect(responseStatusInfo(conf.responseStatus)).toEqual({ ok: false, retryable: false, description: 'permanent: message format corrupt' });
    expect(responseStatusInfo(195).retryable).toBe(true);
  });

  it('gives the m-retrieve-conf date in seconds', () => {
    const pdu = decodeRetrieveConf(bytes(golden.mms.find((v) => v.name === 'mmsd-retrieve-conf-1')!.hex));
    expect(pdu.date?.toISOString()).toBe('2008-01-30T01:40:38.000Z');
  });
});

describe('WAP push (real carrier notifications)', () => {
  for (const v of golden.push) {
    it(`decodes the ${v.name} push into its m-notification-ind`, () => {
      const { push, pdu } = decodeMmsPush(bytes(v.hex));
      expect(push.contentType.mediaType).toBe('application/vnd.wap.mms-message');
      expect(pdu.type).toBe('m-notification-ind');
      expect(pdu.from ?? null).toBe(v.from);
      expect(pdu.contentLocation).toBe(v.contentLocation);
    });
  }

  it('decodes the Free Mobile push SMS: 8-bit DELIVER to port 2948, push, notification', () => {
    const v = golden.pushSms[0]!;
    const sms = decodePdu(v.pdu, { hasSmsc: true });
    expect(sms.type).toBe('deliver');
    if (sms.type !== 'deliver') return;
    expect(sms.originator.number).toBe(v.originator);
    expect(sms.ports?.destination).toBe(2948);
    const { push, pdu } = decodeMmsPush(sms.data!);
    expect(push.applicationId).toBe(4);
    expect(decodeNotificationInd(push.body)).toMatchObject({
      transactionId: v.transactionId,
      from: v.from,
      messageSize: v.messageSize,
      contentLocation: v.contentLocation,
      expiry: { relativeSeconds: 259200 },
    });
    expect(pdu.deliveryReport).toBe(false);
  });

  it('reads the concatenation header of a real push SMS part (2 of 2)', () => {
    const v = golden.pushSmsParts[0]!;
    const sms = decodePdu(v.pdu, { hasSmsc: true });
    if (sms.type !== 'deliver') throw new Error('not a deliver');
    expect(sms.ports?.destination).toBe(2948);
    expect(sms.concat).toMatchObject({ ref: v.ref, part: v.part, total: v.total });
    // The tail of a notification: class, size, expiry, content location.
    expect(Buffer.from(sms.data!).toString('latin1')).toContain('http://218.200.244.197/was/');
  });

  it('carries a notification split over concatenated 8-bit SMS and joins it back', () => {
    const body = encodeMms({
      type: 'm-notification-ind',
      transactionId: 'T'.repeat(40),
      version: '1.2',
      from: '+15557654321/TYPE=PLMN',
      messageClass: 'personal',
      messageSize: 123_456,
      expiry: { relativeSeconds: 604_800 },
      contentLocation: `http://mmsc.example/${'x'.repeat(120)}`,
    });
    const data = encodeWapPush({ transactionId: 7, body });
    const parts = encodeDeliver({ originator: '+15557654321', data, ports: { destination: 2948, source: 9200, bits: 16 }, timestamp: new Date(), reference: 9 });
    expect(parts.length).toBe(2);
    const joined = Buffer.concat(parts.map((p) => {
      const d = decodePdu(p, { hasSmsc: true });
      if (d.type !== 'deliver' || !d.data) throw new Error('not data');
      expect(d.ports?.destination).toBe(2948);
      return d.data;
    }));
    const n = decodeNotificationInd(decodeWapPush(joined).body);
    expect(n).toMatchObject({ transactionId: 'T'.repeat(40), messageSize: 123_456, from: '+15557654321/TYPE=PLMN' });
  });

  it('refuses a WSP PDU that is not a push, and a push that is not an MMS', () => {
    expect(() => decodeWapPush(bytes('000507BEAF84'))).toThrow(MmsError);
    expect(() => decodeMmsPush(encodeWapPush({ transactionId: 1, body: new Uint8Array([1]), contentType: { mediaType: 'application/vnd.wap.sic', params: {} } }))).toThrow(/not an MMS/);
  });
});

describe('MMS round trips of every PDU type', () => {
  const png = new Uint8Array(2000).map((_, i) => (i * 7) & 0xff);
  const sendReq: MmsPdu = {
    type: 'm-send-req',
    transactionId: 'tx-1',
    version: '1.2',
    date: new Date('2026-02-24T15:30:00Z'),
    from: null,
    to: ['+15559876543/TYPE=PLMN', '+15550000002/TYPE=PLMN'],
    subject: 'Grüße 👋',
    messageClass: 'personal',
    expiry: { relativeSeconds: 86_400 },
    deliveryReport: true,
    readReport: false,
    contentType: { mediaType: 'application/vnd.wap.multipart.related', params: { start: '<smil>', type: 'application/smil' } },
    parts: [
      { contentType: 'application/smil', charset: 'utf-8', name: 'smil.xml', contentId: 'smil', contentLocation: 'smil.xml', data: new TextEncoder().encode('<smil/>') },
      { contentType: 'text/plain', charset: 'utf-8', name: 'text.txt', contentId: 'text', contentLocation: 'text.txt', data: new TextEncoder().encode('Hello — ✓') },
      { contentType: 'image/png', name: 'photo.png', contentId: 'photo', contentLocation: 'photo.png', data: png },
    ],
  };
  const cases: MmsPdu[] = [
    sendReq,
    { type: 'm-send-conf', transactionId: 'tx-1', version: '1.2', responseStatus: 128, messageId: 'mid-1' },
    {
      type: 'm-notification-ind',
      transactionId: 'tx-2',
      version: '1.3',
      from: '+15551234567/TYPE=PLMN',
      subject: 'hi',
      messageClass: 'personal',
      messageSize: 300_000,
      expiry: { absolute: new Date('2026-03-01T00:00:00Z') },
      contentLocation: 'http://127.0.0.1:8514/mms/abc',
    },
    { type: 'm-notifyresp-ind', transactionId: 'tx-2', version: '1.2', status: 'deferred', reportAllowed: false },
    { ...sendReq, type: 'm-retrieve-conf', from: '+15551234567/TYPE=PLMN', messageId: 'mid-2', priority: 'high', retrieveStatus: 128 },
    { type: 'm-acknowledge-ind', transactionId: 'tx-2', version: '1.2', reportAllowed: true },
    { type: 'm-delivery-ind', version: '1.2', messageId: 'mid-1', to: ['+15559876543/TYPE=PLMN'], date: new Date('2026-02-24T15:31:00Z'), status: 'retrieved' },
  ];
  for (const pdu of cases) {
    it(`round-trips ${pdu.type}`, () => {
      expect(decodeMms(encodeMms(pdu))).toEqual(pdu);
    });
  }

  it('encodes From as the insert-address token in m-send-req', () => {
    const bytesOut = encodeMms(sendReq);
    expect(hex(bytesOut)).toContain('890181');
  });

  it('builds m-acknowledge-ind and m-notifyresp-ind from their helpers', () => {
    expect(decodeMms(encodeAcknowledgeInd({ transactionId: 'a', reportAllowed: true }))).toEqual({ type: 'm-acknowledge-ind', transactionId: 'a', version: '1.2', reportAllowed: true });
    expect(decodeDeliveryInd(encodeMms(cases[6]!))).toEqual({ messageId: 'mid-1', to: '+15559876543/TYPE=PLMN', date: new Date('2026-02-24T15:31:00Z'), status: 'retrieved' });
  });

  it('refuses a PDU of the wrong type where a specific one is expected', () => {
    expect(() => decodeSendConf(encodeMms(cases[3]!))).toThrow(/expected m-send-conf/);
    expect(() => decodeNotificationInd(encodeMms({ type: 'm-notification-ind', version: '1.2', transactionId: 'x' }))).toThrow(MmsError);
  });
});
