import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MmsError, decodeMms, decodeMmsPush, encodeMms, encodeWapPush } from '../../src/mms/pdu/index.ts';

const golden = JSON.parse(readFileSync(new URL('../fixtures/mms/golden.json', import.meta.url), 'utf8')) as {
  mms: { hex: string }[];
  push: { hex: string }[];
};
const toBytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

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

const sendReq = encodeMms({
  type: 'm-send-req',
  transactionId: 't',
  version: '1.2',
  from: null,
  to: ['+15551234567/TYPE=PLMN'],
  subject: 'ünïcode',
  contentType: { mediaType: 'application/vnd.wap.multipart.related', params: { start: '<smil>', type: 'application/smil' } },
  parts: [
    { contentType: 'application/smil', charset: 'utf-8', contentId: 'smil', data: new TextEncoder().encode('<smil/>') },
    { contentType: 'image/jpeg', name: 'a.jpg', contentLocation: 'a.jpg', data: new Uint8Array(40).fill(0xff) },
  ],
});
const mmsSeeds = [...golden.mms.map((v) => toBytes(v.hex)), sendReq];
const pushSeeds = [...golden.push.map((v) => toBytes(v.hex)), encodeWapPush({ transactionId: 1, body: sendReq })];

function mutate(seed: Uint8Array, edits: [number, number, 'set' | 'insert' | 'delete'][], cut: number | null): Uint8Array {
  const bytes = Array.from(seed);
  for (const [at, value, op] of edits) {
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (op === 'set') bytes[i] = value;
    else if (op === 'insert') bytes.splice(i, 0, value);
    else bytes.splice(i, 1);
  }
  return new Uint8Array(cut === null ? bytes : bytes.slice(0, cut % (bytes.length + 1)));
}

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
        onlyMmsError(decodeMms, mutate(mms, e, cut));
        onlyMmsError(decodeMmsPush, mutate(push, e, cut));
      }),
      { numRuns: 10_000 },
    );
  });
});
