import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MmsError, decodeMms, decodeMmsPush } from '../../src/mms/pdu/index.ts';
import { applyEdits } from '../../bench/fuzz/mutate.ts';
import { encodedMms, goldenMms } from '../../bench/fuzz/targets/mms-pdu.ts';
import { createTarget as createPushTarget } from '../../bench/fuzz/targets/wap-push.ts';

/** Decoding either succeeds or throws MmsError: never another error, never a hang. */
function onlyMmsError(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (err) {
    if (!(err instanceof MmsError)) throw new Error(`non-MmsError for ${Buffer.from(bytes).toString('hex')}: ${String(err)}`, { cause: err });
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(bytes.length);
    expect(err.status).toBe(400);
  }
}

// The fuzz harness's corpora (bench/fuzz): golden fixtures and the encoder's own output.
const mmsSeeds = [...goldenMms(), ...encodedMms()];
const pushSeeds = createPushTarget().corpus.seeds;

const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set' as const, 'insert' as const, 'delete' as const)), { minLength: 1, maxLength: 4 });

describe('MMS decoder fuzzing', () => {
  it('throws only MmsError on random bytes (MMS and push decoders)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        onlyMmsError(decodeMms, bytes);
        onlyMmsError(decodeMmsPush, bytes);
        // Random bytes behind a valid MMS start reach the header decoders.
        onlyMmsError(decodeMms, new Uint8Array([0x8c, 0x84, ...bytes]));
      }),
      { numRuns: 10_000 },
    );
  });

  it('throws only MmsError on mutated valid PDUs and pushes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...mmsSeeds), fc.constantFrom(...pushSeeds), edits, fc.option(fc.nat()), (mms, push, e, cut) => {
        onlyMmsError(decodeMms, applyEdits(mms, e, cut));
        onlyMmsError(decodeMmsPush, applyEdits(push, e, cut));
      }),
      { numRuns: 10_000 },
    );
  });
});
