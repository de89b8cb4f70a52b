import { describe, expect, it } from 'vitest';
import { decodePdu, type DecodedDeliver } from '../../src/sms/index.ts';

// +15551234567 as an international TP-OA: 11 digits, type 0x91, swapped BCD.
const OA = '0B915155214365F7';

function deliver(hex: string): DecodedDeliver {
  const d = decodePdu(hex, { direction: 'incoming' });
  if (d.type !== 'deliver') throw new Error(`expected a deliver, got ${d.type}`);
  return d;
}

/** Swapped-BCD SCTS for yy-12-31 23:59:59 UTC. */
function scts(yy: string): string {
  return `${yy[1]}${yy[0]}211332959500`;
}

describe('DELIVER time stamps', () => {
  it('reads two-digit years 90–99 as the 1990s and 00–89 as this century, as gammu does', () => {
    const at = (yy: string) => deliver(`0004${OA}0000${scts(yy)}00`).timestamp.iso;
    expect(at('99')).toBe('1999-12-31T23:59:59+00:00');
    expect(at('90')).toBe('1990-12-31T23:59:59+00:00');
    expect(at('89')).toBe('2089-12-31T23:59:59+00:00');
    expect(at('24')).toBe('2024-12-31T23:59:59+00:00');
    expect(deliver(`0004${OA}0000${scts('99')}00`).timestamp.epochMs).toBe(Date.UTC(1999, 11, 31, 23, 59, 59));
  });
});

describe('empty user data', () => {
  it('decodes TP-UDHI set with TP-UDL 0 as an empty message (GSM-7, UCS-2 and 8-bit)', () => {
    // First octet 0x44: TP-UDHI and no more messages.
    const text = deliver(`0044${OA}0000${scts('24')}00`);
    expect(text).toMatchObject({ text: '', data: null, udh: [], concat: null, ports: null });
    const ucs2 = deliver(`0044${OA}0008${scts('24')}00`);
    expect(ucs2).toMatchObject({ text: '', data: null });
    const octets = deliver(`0044${OA}0004${scts('24')}00`);
    expect(octets.text).toBeNull();
    expect(octets.data).toEqual(new Uint8Array(0));
  });
});
