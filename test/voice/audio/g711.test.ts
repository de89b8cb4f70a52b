import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711, G711_SILENCE } from '../../../src/voice/audio/g711.ts';

const enc = (law: 'pcmu' | 'pcma', s: number) => encodeG711(law, Int16Array.of(s))[0];
const dec = (law: 'pcmu' | 'pcma', b: number) => decodeG711(law, Uint8Array.of(b))[0];

describe('G.711 µ-law', () => {
  it('matches the ITU reference values', () => {
    expect(enc('pcmu', 0)).toBe(0xff);
    expect(enc('pcmu', -1)).toBe(0x7f);
    expect(enc('pcmu', 32767)).toBe(0x80);
    expect(enc('pcmu', -32768)).toBe(0x00);
    expect(enc('pcmu', 1000)).toBe(0xce);
    expect(dec('pcmu', 0xff)).toBe(0);
    expect(dec('pcmu', 0x80)).toBe(32124);
    expect(dec('pcmu', 0x00)).toBe(-32124);
    expect(dec('pcmu', 0xce)).toBe(988);
    expect(G711_SILENCE.pcmu).toBe(0xff);
  });

  it('round-trips every code byte exactly (decode then encode)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const back = encodeG711('pcmu', decodeG711('pcmu', all));
    // 0x7f and 0xff both decode to 0; 0 encodes as 0xff
    for (let b = 0; b < 256; b++) expect(back[b]).toBe(b === 0x7f ? 0xff : b);
  });

  it('keeps the quantisation error within half a step of the segment', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (s) => {
        const d = dec('pcmu', enc('pcmu', s) as number) as number;
        const clipped = Math.max(-32635, Math.min(32635, s));
        return Math.abs(d - clipped) <= Math.max(8, Math.abs(clipped) / 16);
      }),
    );
  });
});

describe('G.711 A-law', () => {
  it('matches the ITU reference values', () => {
    expect(enc('pcma', 0)).toBe(0xd5);
    expect(enc('pcma', -1)).toBe(0x55);
    expect(enc('pcma', 32767)).toBe(0xaa);
    expect(enc('pcma', -32768)).toBe(0x2a);
    expect(enc('pcma', 1000)).toBe(0xfa);
    expect(dec('pcma', 0xd5)).toBe(8);
    expect(dec('pcma', 0x55)).toBe(-8);
    expect(dec('pcma', 0xaa)).toBe(32256);
    expect(dec('pcma', 0x2a)).toBe(-32256);
    expect(dec('pcma', 0xfa)).toBe(1008);
  });

  it('round-trips every code byte exactly', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(encodeG711('pcma', decodeG711('pcma', all)))).toEqual(Array.from(all));
  });

  it('is odd-symmetric: encoding -s flips only the sign bit', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 32767 }), (s) => (enc('pcma', s) as number) === ((enc('pcma', -s - 1) as number) ^ 0x80)));
  });
});
