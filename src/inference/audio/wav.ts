/*
 * RIFF/WAVE decoding for every common sample format: integer PCM (8, 16, 24, 32 bit),
 * IEEE float (32, 64), A-law, µ-law, and WAVE_FORMAT_EXTENSIBLE wrapping any of them.
 * Pure: bytes in, channels of float samples out.
 */

export interface DecodedAudio {
  sampleRateHz: number;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
}

export class AudioDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudioDecodeError';
  }
}

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE';
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

function alaw(v: number): number {
  v ^= 0x55;
  const sign = v & 0x80;
  const exp = (v >> 4) & 7;
  const mant = v & 0x0f;
  let s = exp === 0 ? (mant << 4) + 8 : ((mant << 4) + 0x108) << (exp - 1);
  if (!sign) s = -s;
  return s / 32768;
}

function ulaw(v: number): number {
  v = ~v & 0xff;
  const sign = v & 0x80;
  const exp = (v >> 4) & 7;
  const mant = v & 0x0f;
  const s = (((mant << 3) + 0x84) << exp) - 0x84;
  return (sign ? -s : s) / 32768;
}

export function decodeWav(bytes: Uint8Array): DecodedAudio {
  if (!isWav(bytes)) throw new AudioDecodeError('not a RIFF/WAVE file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format = 0;
  let channels = 0;
  let rate = 0;
  let bits = 0;
  let blockAlign = 0;
  let data: Uint8Array | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at, 4);
    let size = view.getUint32(at + 4, true);
    const body = at + 8;
    // Streamed WAVs may give 0 or 0xFFFFFFFF as the data size: take the rest of the file.
    if (id === 'data' && (size === 0 || size === 0xffffffff || body + size > bytes.length)) size = bytes.length - body;
    if (id === 'fmt ') {
      if (size < 16) throw new AudioDecodeError('WAV fmt chunk is too short');
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      rate = view.getUint32(body + 4, true);
      blockAlign = view.getUint16(body + 12, true);
      bits = view.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      data = bytes.subarray(body, body + size);
    }
    at = body + size + (size % 2);
  }
  if (!data) throw new AudioDecodeError('WAV file has no data chunk');
  if (channels < 1 || rate < 1 || blockAlign < 1) throw new AudioDecodeError('WAV fmt chunk is missing or invalid');
  const frames = Math.floor(data.length / blockAlign);
  const bytesPer = blockAlign / channels;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = sampleReader(format, bits, bytesPer, dv);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) (out[c] as Float32Array)[f] = read(f * blockAlign + c * bytesPer);
  }
  return { sampleRateHz: rate, channels: out };
}

function sampleReader(format: number, bits: number, bytesPer: number, dv: DataView): (at: number) => number {
  if (format === 1) {
    if (bytesPer === 1) return (at) => (dv.getUint8(at) - 128) / 128;
    if (bytesPer === 2) return (at) => dv.getInt16(at, true) / 32768;
    if (bytesPer === 3) return (at) => (((dv.getUint8(at + 2) << 24) | (dv.getUint8(at + 1) << 16) | (dv.getUint8(at) << 8)) >> 8) / 8388608;
    if (bytesPer === 4) return (at) => dv.getInt32(at, true) / 2147483648;
  } else if (format === 3) {
    if (bits === 32) return (at) => dv.getFloat32(at, true);
    if (bits === 64) return (at) => dv.getFloat64(at, true);
  } else if (format === 6 && bytesPer === 1) {
    return (at) => alaw(dv.getUint8(at));
  } else if (format === 7 && bytesPer === 1) {
    return (at) => ulaw(dv.getUint8(at));
  }
  throw new AudioDecodeError(`unsupported WAV sample format (format ${format}, ${bits} bits)`);
}
