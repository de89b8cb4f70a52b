/*
 * G.711 (ITU-T G.711) µ-law and A-law. Pure: bytes in, samples out. Encoding goes through
 * 64 KiB tables built once, so the hot path is one lookup per sample.
 */

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

function ulawEncodeSample(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  // exponent = index of the highest set bit among bits 7..14, minus 7
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function ulawDecodeByte(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

const ALAW_SEGMENT_END = [0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0x7fff];

function alawEncodeSample(sample: number): number {
  let s = sample;
  let mask: number;
  if (s >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    s = -s - 1;
  }
  let segment = 0;
  while (segment < 8 && s > (ALAW_SEGMENT_END[segment] as number)) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (s >> 4) & 0x0f : (s >> (segment + 3)) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function alawDecodeByte(byte: number): number {
  const a = byte ^ 0x55;
  let t = (a & 0x0f) << 4;
  const segment = (a & 0x70) >> 4;
  if (segment === 0) t += 8;
  else if (segment === 1) t += 0x108;
  else t = (t + 0x108) << (segment - 1);
  return a & 0x80 ? t : -t;
}

function encodeTable(encode: (s: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encode(i - 32768);
  return table;
}

function decodeTable(decode: (b: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let b = 0; b < 256; b++) table[b] = decode(b);
  return table;
}

const ULAW_ENCODE = encodeTable(ulawEncodeSample);
const ALAW_ENCODE = encodeTable(alawEncodeSample);
const ULAW_DECODE = decodeTable(ulawDecodeByte);
const ALAW_DECODE = decodeTable(alawDecodeByte);

export type G711Law = 'pcmu' | 'pcma';

/** The byte a silent frame is made of (what a decoder maps to 0 or the smallest step). */
export const G711_SILENCE: Record<G711Law, number> = { pcmu: 0xff, pcma: 0xd5 };

export function encodeG711(law: G711Law, pcm: Int16Array): Uint8Array {
  const table = law === 'pcmu' ? ULAW_ENCODE : ALAW_ENCODE;
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[(pcm[i] as number) + 32768] as number;
  return out;
}

export function decodeG711(law: G711Law, bytes: Uint8Array): Int16Array {
  const table = law === 'pcmu' ? ULAW_DECODE : ALAW_DECODE;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i] as number] as number;
  return out;
}
