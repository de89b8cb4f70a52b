/** Hex and byte-cursor helpers shared by the PDU decoders. */
import { PduError, type PduErrorCode } from './pdu-error.ts';

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Parses hex (either case, surrounding whitespace ignored) into bytes. */
export function hexToBytes(input: string): Uint8Array {
  const hex = input.trim();
  if (hex.length % 2 !== 0) {
    throw new PduError('PDU_INVALID_HEX', hex.length >> 1, 'hex string has an odd number of digits');
  }
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const c1 = hex.charCodeAt(2 * i);
    const c2 = hex.charCodeAt(2 * i + 1);
    const hi = c1 < 128 ? (NIBBLE[c1] ?? -1) : -1;
    const lo = c2 < 128 ? (NIBBLE[c2] ?? -1) : -1;
    if (hi < 0 || lo < 0) throw new PduError('PDU_INVALID_HEX', i, 'not a hexadecimal digit');
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Uppercase hex, as modems print and expect it. */
export function bytesToHex(bytes: Uint8Array | readonly number[]): string {
  if (bytes.length < 16) {
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += HEX[(bytes[i] ?? 0) & 0xff];
    return s;
  }
  // Native hex is several times faster than string building for whole PDUs.
  const buf = bytes instanceof Uint8Array ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) : Buffer.from(bytes);
  return buf.toString('hex').toUpperCase();
}

/** Uppercase hex of bytes[0, length): one native conversion, one string. */
export function upperHex(bytes: Buffer, length: number): string {
  return bytes.toString('hex', 0, length).toUpperCase();
}

/** A bounds-checked cursor: every read past the end is a PduError naming the field. */
export class PduReader {
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Added to offsets in errors so they count from the start of the whole PDU. */
    readonly base = 0,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  byte(field: string): number {
    if (this.pos >= this.bytes.length) this.fail('PDU_TRUNCATED', `ends before ${field}`);
    return this.bytes[this.pos++] as number;
  }

  take(n: number, field: string): Uint8Array {
    if (n > this.remaining) this.fail('PDU_TRUNCATED', `${field} needs ${n} bytes, ${this.remaining} left`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  fail(code: PduErrorCode, reason: string, at = this.pos): never {
    throw new PduError(code, this.base + at, reason);
  }
}
