import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PduError,
  decodePdu,
  directionFromStat,
  encodeDeliver,
  encodeStatusReport,
  encodeSubmit,
  tpduLengthOf,
  type DecodedDeliver,
  type DecodedPdu,
  type DecodedSubmit,
} from '../../src/sms/index.ts';
import { bytesToHex } from '../../src/sms/bytes.ts';
import { decodeDcs } from '../../src/sms/dcs.ts';
import { relativeValidity, relativeValidityMinutes } from '../../src/sms/validity.ts';

const when = new Date('2024-03-01T13:05:09Z');

function deliver(hex: string): DecodedDeliver {
  const d = decodePdu(hex, { direction: 'incoming' });
  if (d.type !== 'deliver') throw new Error(`expected a deliver, got ${d.type}`);
  return d;
}

function submit(hex: string): DecodedSubmit {
  const d = decodePdu(hex, { direction: 'outgoing' });
  if (d.type !== 'submit') throw new Error(`expected a submit, got ${d.type}`);
  return d;
}

/** Joins parts in part order, checking the concatenation headers agree. */
function joined(parts: readonly (DecodedDeliver | DecodedSubmit)[]): string {
  if (parts.length === 1) return parts[0]?.text ?? '';
  const refs = new Set(parts.map((p) => p.concat?.ref));
  expect(refs.size).toBe(1);
  parts.forEach((p, i) => expect(p.concat).toMatchObject({ part: i + 1, total: parts.length }));
  return parts.map((p) => p.text).join('');
}

describe('round trips', () => {
  it('DELIVER: encode → decode gives back any Unicode text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.boolean(), (text, ref16) => {
        const pdus = encodeDeliver({ originator: '+4915112345678', text, timestamp: when, ref16, maxParts: 255 });
        expect(joined(pdus.map(deliver))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('SUBMIT: encode → decode gives back any Unicode text, with lengths matching the hex', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const pdus = encodeSubmit({ to: '+15551234567', text, maxParts: 255 });
        for (const p of pdus) expect(p.tpduLength).toBe(tpduLengthOf(p.hex));
        expect(joined(pdus.map((p) => submit(p.hex)))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('GSM-7 text with extension characters stays GSM-7 and round-trips', () => {
    const gsm = fc.constantFrom(...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡AZÄÖÑÜ§¿azäöñüà€[]{}^~\\|\f'.split(''));
    fc.assert(
      fc.property(fc.array(gsm, { maxLength: 500 }), (chars) => {
        const text = chars.join('');
        const pdus = encodeDeliver({ originator: '12345', text, timestamp: when, maxParts: 255 });
        const parts = pdus.map(deliver);
        parts.forEach((p) => expect(p.encoding).toBe('gsm7'));
        expect(joined(parts)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('national language tables round-trip for every language', () => {
    const samples: [Parameters<typeof encodeSubmit>[0]['nationalLanguages'], string][] = [
      [['turkish'], 'Ağaç, şeker, ılık, İzmir, Çeşme, ğĞ €'],
      [['spanish'], 'Canción, árbol, ÁÍÓÚ ç, acción €'],
      [['portuguese'], 'Ação, coração, você, ÊÔ ª º ∞ `'],
      [['hindi'], 'नमस्ते दुनिया, आप कैसे हैं? ।'],
      [['bengali'], 'আমার সোনার বাংলা'],
      [['tamil'], 'வணக்கம் உலகம்'],
      [['urdu'], 'سلام دنیا'],
    ];
    for (const [langs, text] of samples) {
      const pdus = encodeSubmit({ to: '+15550001111', text, nationalLanguages: langs });
      const parts = pdus.map((p) => submit(p.hex));
      expect(parts[0]?.encoding, text).toBe('gsm7');
      expect(parts[0]?.shift, text).not.toBeNull();
      expect(joined(parts)).toBe(text);
    }
  });

  it('STATUS-REPORT: encode → decode keeps every field', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: -79, max: 79 }),
        // SCTS years pivot as gammu's do: 90–99 read back as the 1990s, so 1990–2089 round-trip.
        fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2089-12-31T00:00:00Z'), noInvalidDate: true }),
        (messageRef, status, quarters, date) => {
          const scts = new Date(Math.floor(date.getTime() / 1000) * 1000);
          const discharge = new Date(scts.getTime() + 42_000);
          const hex = encodeStatusReport({ messageRef, recipient: '+15551234567', scts, discharge, status, tzOffsetMinutes: quarters * 15 });
          const d = decodePdu(hex);
          expect(d).toMatchObject({
            type: 'status-report',
            messageRef,
            recipient: { number: '+15551234567', kind: 'international' },
            timestamp: { epochMs: scts.getTime(), tzOffsetMinutes: quarters * 15 },
            discharge: { epochMs: discharge.getTime() },
            status: { raw: status },
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('DELIVER fields', () => {
  it('keeps a negative time zone in the ISO time stamp', () => {
    const d = deliver(encodeDeliver({ originator: '+15551234567', text: 'hi', timestamp: when, tzOffsetMinutes: -300 })[0] as string);
    expect(d.timestamp).toEqual({ iso: '2024-03-01T08:05:09-05:00', epochMs: when.getTime(), tzOffsetMinutes: -300 });
  });

  it('round-trips an alphanumeric sender', () => {
    expect(deliver(encodeDeliver({ originator: 'AgentPhone1', text: 'x', timestamp: when })[0] as string).originator).toEqual({
      number: 'AgentPhone1',
      kind: 'alphanumeric',
      ton: 5,
      npi: 0,
    });
  });

  it('carries 8-bit data with 16-bit application ports (WAP push), across parts', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const pdus = encodeDeliver({ originator: '+15551234567', data, timestamp: when, ports: { destination: 2948, source: 9200, bits: 16 }, reference: 9 });
    const parts = pdus.map(deliver);
    expect(parts).toHaveLength(3);
    parts.forEach((p, i) => {
      expect(p).toMatchObject({ encoding: '8bit', text: null, ports: { destination: 2948, source: 9200, bits: 16 } });
      expect(p.concat).toEqual({ ref: 9, refBits: 8, part: i + 1, total: 3 });
    });
    expect(Buffer.concat(parts.map((p) => p.data as Uint8Array))).toEqual(Buffer.from(data));
  });

  it('marks a flash message as class 0', () => {
    const d = deliver(encodeDeliver({ originator: '123', text: 'now', timestamp: when, flash: true })[0] as string);
    expect(d.dcs.messageClass).toBe(0);
  });

  it('skips unknown UDH elements and still reads the concatenation', () => {
    // UDHI DELIVER with UDH: unknown IEI 0x70 (2 octets), then 8-bit concat ref 0x42 part 2 of 3; 8-bit body "AB".
    const hex = '00' + '40' + '038121F3' + '00' + '04' + '42103121000000' + '0C' + '09' + '70020102' + '0003420302' + '4142';
    const d = deliver(hex);
    expect(d.udh.map((e) => e.iei)).toEqual([0x70, 0x00]);
    expect(d.concat).toEqual({ ref: 0x42, refBits: 8, part: 2, total: 3 });
    expect(bytesToHex(d.data as Uint8Array)).toBe('4142');
  });

  it('ignores a concatenation element whose part number is out of range', () => {
    const hex = '00' + '40' + '038121F3' + '00' + '04' + '42103121000000' + '08' + '05' + '0003420304' + '4142';
    expect(deliver(hex).concat).toBeNull();
  });

  it('reads text after a UDH with the right fill bits', () => {
    for (const len of [150, 153, 154, 306, 307]) {
      const text = 'x'.repeat(len - 1) + '€';
      const parts = encodeDeliver({ originator: '1', text, timestamp: when }).map(deliver);
      expect(joined(parts)).toBe(text);
    }
  });

  it('reports compressed text as unsupported, not garbled', () => {
    const hex = '00' + '04' + '038121F3' + '00' + '20' + '42103121000000' + '03' + 'AABBCC';
    const d = deliver(hex);
    expect(d).toMatchObject({ text: null, unsupported: 'compressed', dcs: { compressed: true } });
    expect(bytesToHex(d.data as Uint8Array)).toBe('AABBCC');
  });

  it('decodes a dangling odd UCS-2 byte as U+FFFD', () => {
    const hex = '00' + '04' + '038121F3' + '00' + '08' + '42103121000000' + '03' + '004100';
    expect(deliver(hex).text).toBe('A\uFFFD');
  });
});

describe('data coding schemes', () => {
  it.each([
    [0x00, { alphabet: 'gsm7', messageClass: null }],
    [0x08, { alphabet: 'ucs2', messageClass: null }],
    [0x10, { alphabet: 'gsm7', messageClass: 0 }],
    [0x1a, { alphabet: 'ucs2', messageClass: 2 }],
    [0x24, { alphabet: '8bit', compressed: true }],
    [0x48, { alphabet: 'ucs2', autoDelete: true }],
    [0x8c, { alphabet: 'gsm7' }],
    [0xc8, { alphabet: 'gsm7', waiting: { active: true, kind: 'voicemail', store: false } }],
    [0xd1, { alphabet: 'gsm7', waiting: { active: false, kind: 'fax', store: true } }],
    [0xea, { alphabet: 'ucs2', waiting: { active: true, kind: 'email', store: true } }],
    [0xf0, { alphabet: 'gsm7', messageClass: 0 }],
    [0xf5, { alphabet: '8bit', messageClass: 1 }],
  ])('decodes 0x%s', (raw, expected) => {
    expect(decodeDcs(raw)).toMatchObject({ raw, ...expected });
  });
});

describe('SUBMIT fields', () => {
  it('requests a status report and the maximum validity by default', () => {
    const [p] = encodeSubmit({ to: '+15551234567', text: 'hi' });
    const d = submit(p?.hex as string);
    expect(d).toMatchObject({ statusReportRequested: true, messageRef: 0, validity: { format: 'relative', raw: 255 } });
    expect(p?.hex.startsWith('0031')).toBe(true);
  });

  it('encodes national and unknown destination types', () => {
    expect(submit(encodeSubmit({ to: '0170123456', toType: 'national', text: 'x' })[0]?.hex as string).recipient.kind).toBe('national');
    expect(submit(encodeSubmit({ to: '0170123456', text: 'x' })[0]?.hex as string).recipient.kind).toBe('unknown');
  });

  it('sets the 16-bit reference it is given on every part', () => {
    const parts = encodeSubmit({ to: '+1555', text: 'y'.repeat(400), ref16: true, reference: 0xbeef }).map((p) => submit(p.hex));
    parts.forEach((p, i) => expect(p.concat).toEqual({ ref: 0xbeef, refBits: 16, part: i + 1, total: 3 }));
  });

  it('rounds relative validity up to the next step the format has', () => {
    expect(relativeValidity({ minutes: 5 })).toBe(0);
    expect(relativeValidity({ minutes: 6 })).toBe(1);
    expect(relativeValidity({ minutes: 24 * 60 })).toBe(167);
    expect(relativeValidity({ minutes: 3 * 24 * 60 })).toBe(169);
    expect(relativeValidity({ minutes: 5 * 7 * 24 * 60 })).toBe(197);
    for (let vp = 0; vp < 256; vp++) expect(relativeValidity({ minutes: relativeValidityMinutes(vp) })).toBe(vp);
  });

  it('refuses a destination that is not a number', () => {
    expect(() => encodeSubmit({ to: 'alice', text: 'x' })).toThrow(/to must be a phone number/);
  });
});

describe('direction', () => {
  it('maps stored-message status to a direction', () => {
    expect([0, 1, 2, 3, 4].map((s) => directionFromStat(s))).toEqual(['incoming', 'incoming', 'outgoing', 'outgoing', undefined]);
    expect(directionFromStat('"REC UNREAD"')).toBe('incoming');
    expect(directionFromStat('STO SENT')).toBe('outgoing');
  });

  it('takes the caller’s direction over the type bits', () => {
    const [p] = encodeSubmit({ to: '+1555', text: 'x' });
    const hex = p?.hex as string;
    expect(decodePdu(hex).type).toBe('submit');
    expect(() => decodePdu(hex, { direction: 'incoming' })).toThrow(/SUBMIT-REPORT is not supported/);
    const dl = encodeDeliver({ originator: '1', text: 'x', timestamp: when })[0] as string;
    expect(() => decodePdu(dl, { direction: 'outgoing' })).toThrow(PduError);
  });

  it('decodes a PDU without an SMSC field', () => {
    const dl = encodeDeliver({ originator: '1', text: 'hey', timestamp: when, smsc: '+491710760000' })[0] as string;
    const withSmsc: DecodedPdu = decodePdu(dl);
    expect(withSmsc.smsc?.number).toBe('+491710760000');
    const tpdu = dl.slice(2 + 2 * parseInt(dl.slice(0, 2), 16));
    expect(decodePdu(tpdu, { hasSmsc: false })).toMatchObject({ smsc: null, text: 'hey' });
  });
});
