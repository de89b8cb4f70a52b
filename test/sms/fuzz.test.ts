import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PduError, decodePdu, encodeDeliver, encodeStatusReport, encodeSubmit, type DecodeOptions } from '../../src/sms/index.ts';
import { bytesToHex } from '../../src/sms/bytes.ts';

/** Decoding either succeeds or throws PduError: never another error, never a hang. */
function onlyPduError(hex: string, opts?: DecodeOptions): void {
  try {
    decodePdu(hex, opts);
  } catch (err) {
    if (!(err instanceof PduError)) throw new Error(`non-PduError for ${hex}: ${String(err)}`, { cause: err });
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(hex.length / 2 + 1);
    expect(err.status).toBe(400);
  }
}

const golden = JSON.parse(readFileSync(new URL('../fixtures/sms/pdu-golden.json', import.meta.url), 'utf8')) as {
  decode: { hex: string }[];
};
const when = new Date('2024-03-01T13:05:09Z');
const seeds: string[] = [
  ...golden.decode.map((v) => v.hex),
  ...encodeSubmit({ to: '+15551234567', text: 'z'.repeat(200) }).map((p) => p.hex),
  ...encodeSubmit({ to: '+15551234567', text: 'ğüş'.repeat(30), nationalLanguages: ['turkish'] }).map((p) => p.hex),
  ...encodeDeliver({ originator: 'Alpha', text: '😀 hi'.repeat(20), timestamp: when }).map((p) => p),
  ...encodeDeliver({ originator: '+1', data: new Uint8Array(10), ports: { destination: 2948, source: 9200, bits: 16 }, timestamp: when }),
  encodeStatusReport({ messageRef: 1, recipient: '+1555', scts: when, discharge: when, status: 0x40 }),
];
const options: DecodeOptions[] = [{}, { hasSmsc: false }, { direction: 'incoming' }, { direction: 'outgoing' }];

describe('PDU decoder fuzzing', () => {
  it('throws only PduError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...options), (bytes, opts) => onlyPduError(bytesToHex(bytes), opts)),
      { numRuns: 20_000 },
    );
  });

  it('throws only PduError on random strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => onlyPduError(s)),
      { numRuns: 2_000 },
    );
  });

  it('throws only PduError on mutated valid PDUs', () => {
    const mutation = fc.record({
      seed: fc.constantFrom(...seeds),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), {
        minLength: 1,
        maxLength: 4,
      }),
      cut: fc.option(fc.nat()),
      opts: fc.constantFrom(...options),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits, cut, opts }) => {
        const bytes = Array.from(Buffer.from(seed, 'hex'));
        for (const [at, value, kind] of edits) {
          const i = bytes.length === 0 ? 0 : at % bytes.length;
          if (kind === 'set') bytes[i] = value;
          else if (kind === 'insert') bytes.splice(i, 0, value);
          else bytes.splice(i, 1);
        }
        const truncated = cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1));
        onlyPduError(bytesToHex(truncated), opts);
      }),
      { numRuns: 20_000 },
    );
  });

  it('rejects odd-length and non-hex input with PDU_INVALID_HEX', () => {
    expect(() => decodePdu('0')).toThrow(expect.objectContaining({ code: 'PDU_INVALID_HEX' }));
    expect(() => decodePdu('0G')).toThrow(expect.objectContaining({ code: 'PDU_INVALID_HEX', offset: 0 }));
    expect(() => decodePdu('')).toThrow(expect.objectContaining({ code: 'PDU_TRUNCATED' }));
  });
});
