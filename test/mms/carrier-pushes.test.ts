import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMmsPush, decodeNotificationInd, decodeWapPush, encodeMms, MmsError } from '../../src/mms/pdu/index.ts';
import { decodePdu } from '../../src/sms/index.ts';

interface CarrierPushes {
  notifications: { name: string; hex: string; fromContains: string }[];
  pushSmsSets: { name: string; pdus: string[]; ref: number; expect: Record<string, unknown> }[];
  pushSms: { name: string; pdu: string; expect: Record<string, unknown> }[];
}
const vectors = JSON.parse(readFileSync(new URL('../fixtures/mms/carrier-pushes.json', import.meta.url), 'utf8')) as CarrierPushes;
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const cat = (...parts: (Uint8Array | number[])[]) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
const text = (s: string) => [...Buffer.from(s, 'latin1'), 0];

/** WSP push header sets seen from carriers, each followed by the same MMS body. */
const PUSH_HEADERS: Record<string, number[]> = {
  'content type as a short-integer, app id 4': [0xbe, 0xaf, 0x84],
  'content type as text': [...text('application/vnd.wap.mms-message'), 0xaf, 0x84],
  'content type with a charset parameter (general form)': [0x03, 0xbe, 0x81, 0xea, 0xaf, 0x84],
  'app id as a URN': [0xbe, 0xaf, ...text('x-wap-application:mms.ua')],
  'app id as a long-integer': [0xbe, 0xaf, 0x02, 0x00, 0x04],
  'Content-Length, Push-Flag and an encoding version': [0xbe, 0xaf, 0x84, 0x8d, 0xdb, 0xb4, 0x81, 0xc3, 0x01, 0x93],
  'an application header by name': [0xbe, ...text('X-Wap-Application-Id'), ...text('x-wap-application:mms.ua')],
};

function push(headers: number[], body: Uint8Array, tid = 0x2a): Uint8Array {
  const len = headers.length;
  const uintvar = len < 128 ? [len] : [0x80 | (len >> 7), len & 0x7f];
  return cat([tid, 0x06, ...uintvar], headers, body);
}

describe('real carrier MMS notifications (capcom6/android-sms-gateway captures)', () => {
  for (const v of vectors.notifications) {
    it(`decodes ${v.name}`, () => {
      const n = decodeNotificationInd(bytes(v.hex));
      expect(n.from).toContain(v.fromContains);
      expect(n.contentLocation).toMatch(/^http:\/\//);
      expect(n.transactionId.length).toBeGreaterThan(0);
      expect(n.messageSize).toBeGreaterThan(0);
    });
  }

  it('takes the unterminated last Content-Location of the MTS notification whole', () => {
    const v = vectors.notifications.find((x) => x.name === 'capcom6-mts-ru-no-final-nul')!;
    expect(decodeNotificationInd(bytes(v.hex))).toMatchObject({
      transactionId: 'id1_1563948840',
      from: '+19162255887/TYPE=PLMN',
      messageSize: 101_336,
      contentLocation: 'http://10.47.133.35/?message-id=1563948840&id=1',
    });
  });

  for (const [label, headers] of Object.entries(PUSH_HEADERS)) {
    it(`decodes every capture inside a push whose headers have ${label}`, () => {
      for (const v of vectors.notifications) {
        const { push: p, pdu } = decodeMmsPush(push(headers, bytes(v.hex)));
        expect(p.contentType.mediaType).toBe('application/vnd.wap.mms-message');
        expect(pdu.type).toBe('m-notification-ind');
        expect(pdu.from).toContain(v.fromContains);
      }
    });
  }

  it('reads a push whose header length is a two-byte uintvar', () => {
    const headers = [0xbe, 0xaf, 0x84, ...text(`X-Padding`), ...text('p'.repeat(140))];
    const v = vectors.notifications[0]!;
    expect(decodeMmsPush(push(headers, bytes(v.hex))).pdu.from).toContain(v.fromContains);
  });
});

describe('real carrier push SMS, concatenated (python-messaging, O2 UK)', () => {
  for (const v of vectors.pushSmsSets) {
    it(`joins ${v.name} in either order of arrival and decodes its notification`, () => {
      const parts = v.pdus.map((p) => {
        const d = decodePdu(p, { hasSmsc: true });
        if (d.type !== 'deliver' || !d.data || !d.concat) throw new Error('not a concatenated data SMS');
        expect(d.ports?.destination).toBe(2948);
        expect(d.concat.ref).toBe(v.ref);
        return { seq: d.concat.part, data: d.data };
      });
      for (const arrival of [parts, [...parts].reverse()]) {
        const joined = cat(...[...arrival].sort((a, b) => a.seq - b.seq).map((p) => p.data));
        const { push: p, pdu } = decodeMmsPush(joined);
        expect(p.applicationId).toBe(4);
        expect(pdu).toMatchObject({ type: 'm-notification-ind', ...v.expect });
      }
    });
  }
});

describe('a real carrier push SMS in one part (OpenHarmony test data)', () => {
  for (const v of vectors.pushSms) {
    it(`decodes ${v.name}: DELIVER, port 2948, push with Push-Flag, notification`, () => {
      const d = decodePdu(v.pdu, { hasSmsc: true });
      if (d.type !== 'deliver' || !d.data) throw new Error('not a data SMS');
      expect(d.ports?.destination).toBe(2948);
      expect(decodeMmsPush(d.data).pdu).toMatchObject({ type: 'm-notification-ind', ...v.expect });
    });
  }
});

describe('header encodings MMSCs get wrong, decoded as Android decodes them', () => {
  const base = { type: 'm-notification-ind' as const, transactionId: 'T1', version: '1.2', messageSize: 2048, contentLocation: 'http://mmsc.example/m1', expiry: { relativeSeconds: 3600 } };
  const withFrom = (fromValue: number[]) => {
    const encoded = encodeMms({ ...base });
    // X-Mms-Message-Type, Transaction-Id, MMS-Version come first; From goes right after them.
    const head = encoded.subarray(0, 2 + 4 + 2);
    return cat(head, [0x89, ...fromValue], encoded.subarray(head.length));
  };
  const address = text('+15551230000/TYPE=PLMN');

  it('reads From whose value-length is one short (the NUL left out of the count)', () => {
    const n = decodeNotificationInd(withFrom([address.length, 0x80, ...address]));
    expect(n).toMatchObject({ from: '+15551230000/TYPE=PLMN', contentLocation: base.contentLocation, messageSize: 2048 });
  });

  it('reads From whose value-length counts the token twice', () => {
    const n = decodeNotificationInd(withFrom([address.length + 2, 0x80, ...address]));
    expect(n).toMatchObject({ from: '+15551230000/TYPE=PLMN', contentLocation: base.contentLocation });
  });

  it('reads From as an encoded-string-value with a charset, and the insert-address token', () => {
    expect(decodeNotificationInd(withFrom([address.length + 3, 0x80, address.length + 1, 0xea, ...address])).from).toBe('+15551230000/TYPE=PLMN');
    expect(decodeNotificationInd(withFrom([0x01, 0x81])).from).toBeNull();
  });

  it('reads a UCS-2 Subject (charset 1000) whole, NUL bytes inside it and all', () => {
    const ucs2 = [...Buffer.from('Hi 你好', 'utf16le').swap16()];
    const subject = [0x96, 3 + ucs2.length + 2, 0x02, 0x03, 0xe8, ...ucs2, 0x00, 0x00];
    const encoded = encodeMms({ ...base });
    const pdu = cat(encoded.subarray(0, 8), subject, encoded.subarray(8));
    expect(decodeNotificationInd(pdu)).toMatchObject({ subject: 'Hi 你好', contentLocation: base.contentLocation });
    const le = [0x96, 5 + ucs2.length, 0x02, 0x03, 0xf7, 0xff, 0xfe, ...Buffer.from('Hi 你好', 'utf16le')];
    expect(decodeNotificationInd(cat(encoded.subarray(0, 8), le, encoded.subarray(8))).subject).toBe('Hi 你好');
  });

  it('reads X-Mms-Message-Size sent as a short-integer', () => {
    const encoded = encodeMms({ ...base, messageSize: 0x1234 });
    const at = Buffer.from(encoded).indexOf(Buffer.from([0x8e, 0x02, 0x12, 0x34]));
    const pdu = cat(encoded.subarray(0, at), [0x8e, 0x85], encoded.subarray(at + 4));
    expect(decodeNotificationInd(pdu).messageSize).toBe(5);
  });

  it('still refuses a push cut short inside its headers, with our own error', () => {
    const v = vectors.notifications[0]!;
    const whole = push([0xbe, 0xaf, 0x84], bytes(v.hex));
    expect(() => decodeWapPush(whole.subarray(0, 4))).toThrow(MmsError);
  });
});
