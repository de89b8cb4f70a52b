/** Septet packing (3GPP TS 23.038 §6.1.2.1.1), with the fill bits that follow a UDH. */

/**
 * Packs septets into octets, starting after `fillBits` zero bits so the first septet
 * lands on a septet boundary of the whole user data (UDH included).
 */
export function packSeptets(septets: ArrayLike<number>, fillBits = 0): Uint8Array {
  const totalBits = fillBits + septets.length * 7;
  const out = new Uint8Array(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (let i = 0; i < septets.length; i++) {
    const v = (septets[i] ?? 0) & 0x7f;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] = (out[byte] as number) | ((v << shift) & 0xff);
    if (shift > 1) out[byte + 1] = (v >> (8 - shift)) & 0xff;
    bit += 7;
  }
  return out;
}

/** Unpacks `count` septets that start `fillBits` bits into `bytes`; missing bits read as 0. */
export function unpackSeptets(bytes: Uint8Array, count: number, fillBits = 0): Uint8Array {
  const out = new Uint8Array(count);
  let bit = fillBits;
  for (let i = 0; i < count; i++) {
    const byte = bit >> 3;
    const shift = bit & 7;
    const word = (bytes[byte] ?? 0) | ((bytes[byte + 1] ?? 0) << 8);
    out[i] = (word >> shift) & 0x7f;
    bit += 7;
  }
  return out;
}

/** Octets needed for `septetCount` septets after `fillBits` bits. */
export function septetBytes(septetCount: number, fillBits = 0): number {
  return Math.ceil((fillBits + septetCount * 7) / 8);
}
