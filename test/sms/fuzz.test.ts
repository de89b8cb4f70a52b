import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PduError, decodePdu, type DecodeOptions } from '../../src/sms/index.ts';
import { bytesToHex } from '../../src/sms/bytes.ts';
import { applyEdits } from '../../bench/fuzz/mutate.ts';
import { createTarget } from '../../bench/fuzz/targets/sms-pdu.ts';

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

// The fuzz harness's corpus (bench/fuzz): golden fixtures and the encoders' own output.
const seeds = createTarget().corpus.seeds;
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
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set' as const, 'insert' as const, 'delete' as const)), {
        minLength: 1,
        maxLength: 4,
      }),
      cut: fc.option(fc.nat()),
      opts: fc.constantFrom(...options),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits, cut, opts }) => {
        onlyPduError(bytesToHex(applyEdits(seed, edits, cut)), opts);
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
