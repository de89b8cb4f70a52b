/*
 * RIFF/WAVE decoding for every common sample format: integer PCM (8, 16, 24, 32 bit),
 * IEEE float (32, 64), A-law, µ-law, and WAVE_FORMAT_EXTENSIBLE wrapping any of them.
 * Pure: bytes in, channels of float samples out. The header is read and checked in full
 * (readWavHeader) before any sample memory is allocated, and every allocation is a small
 * multiple of the bytes actually present: an upload's header cannot size our memory.
 */

import { AgentPhoneError } from '../../errors/index.ts';

export interface DecodedAudio {
  sampleRateHz: number;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
}

/** 400: the upload is not audio we can decode; the message says why. */
export class AudioDecodeError extends AgentPhoneError {
  constructor(message: string) {
    super('AUDIO_DECODE', message, { status: 400 });
  }
}

/** What a WAV may claim. Outside these, it is refused before decoding. */
export const WAV_LIMITS = {
  /** 7.1 surround; speech for transcription never needs more. */
  maxChannels: 8,
  /** Narrowband telephony; also keeps resampling to 16 kHz from more than doubling the samples. */
  minRateHz: 8_000,
  maxRateHz: 384_000,
  /** Real files carry a handful (fmt, data, LIST, fact...); this bounds the header scan. */
  maxChunks: 64,
} as const;

/** A checked header: the data chunk's place and size are within the bytes present. */
export interface WavHeader {
  /** 1 PCM, 3 IEEE float, 6 A-law, 7 µ-law (WAVE_FORMAT_EXTENSIBLE resolved to its sub-format). */
  format: number;
  channels: number;
  sampleRateHz: number;
  bitsPerSample: number;
  blockAlign: number;
  dataOffset: number;
  /** Bytes of whole frames in the data chunk, clamped to what the file holds. */
  dataBytes: number;
  frames: number;
}

/** Sample sizes each format may have, in bits. */
const SUPPORTED_BITS: Record<number, readonly number[]> = { 1: [8, 16, 24, 32], 3: [32, 64], 6: [8], 7: [8] };
const EXTENSIBLE = 0xfffe;

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE';
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

/**
 * Reads and checks a WAV header without touching the samples: channel count, rate, sample
 * format and size, block alignment, and (when `maxSeconds` is given) the duration. Throws
 * AudioDecodeError naming the first problem.
 */
export function readWavHeader(bytes: Uint8Array, maxSeconds = Number.POSITIVE_INFINITY): WavHeader {
  if (!isWav(bytes)) throw new AudioDecodeError('not a RIFF/WAVE file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: Omit<WavHeader, 'dataOffset' | 'dataBytes' | 'frames'> | undefined;
  let data: { offset: number; bytes: number } | undefined;
  let chunks = 0;
  for (let at = 12; at + 8 <= bytes.length && !(fmt && data); ) {
    if (++chunks > WAV_LIMITS.maxChunks) throw new AudioDecodeError(`WAV file has more than ${WAV_LIMITS.maxChunks} chunks before its audio`);
    const id = ascii(bytes, at, 4);
    const declared = view.getUint32(at + 4, true);
    const body = at + 8;
    const present = bytes.length - body;
    if (id === 'fmt ') {
      if (fmt) throw new AudioDecodeError('WAV file has two fmt chunks');
      if (declared < 16 || declared > present) throw new AudioDecodeError('WAV fmt chunk is truncated');
      fmt = readFmt(view, body, declared);
    } else if (id === 'data') {
      // Streamed WAVs give 0 or 0xFFFFFFFF, and cut recordings more than is there: take what is present.
      data = { offset: body, bytes: declared === 0 || declared > present ? present : declared };
    } else if (declared > present) {
      break; // a truncated trailing chunk (metadata) holds no audio
    }
    at = body + declared + (declared % 2);
  }
  if (!fmt) throw new AudioDecodeError('WAV file has no fmt chunk');
  if (!data) throw new AudioDecodeError('WAV file has no data chunk');
  const frames = Math.floor(data.bytes / fmt.blockAlign);
  if (frames / fmt.sampleRateHz > maxSeconds) {
    throw new AudioDecodeError(`the audio is ${Math.round(frames / fmt.sampleRateHz)} s long; at most ${maxSeconds} s are accepted`);
  }
  return { ...fmt, dataOffset: data.offset, dataBytes: frames * fmt.blockAlign, frames };
}

function readFmt(view: DataView, body: number, size: number): Omit<WavHeader, 'dataOffset' | 'dataBytes' | 'frames'> {
  let format = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const sampleRateHz = view.getUint32(body + 4, true);
  const blockAlign = view.getUint16(body + 12, true);
  const bitsPerSample = view.getUint16(body + 14, true);
  if (format === EXTENSIBLE) {
    if (size < 40) throw new AudioDecodeError('WAV fmt chunk (WAVE_FORMAT_EXTENSIBLE) is too short');
    format = view.getUint16(body + 24, true);
  }
  if (channels < 1 || channels > WAV_LIMITS.maxChannels) throw new AudioDecodeError(`WAV channel count ${channels} is not supported (1 to ${WAV_LIMITS.maxChannels})`);
  if (sampleRateHz < WAV_LIMITS.minRateHz || sampleRateHz > WAV_LIMITS.maxRateHz) {
    throw new AudioDecodeError(`WAV sample rate ${sampleRateHz} Hz is not supported (${WAV_LIMITS.minRateHz} to ${WAV_LIMITS.maxRateHz} Hz)`);
  }
  if (!SUPPORTED_BITS[format]?.includes(bitsPerSample)) throw new AudioDecodeError(`unsupported WAV sample format (format ${format}, ${bitsPerSample} bits)`);
  if (blockAlign !== channels * (bitsPerSample / 8)) {
    throw new AudioDecodeError(`WAV block align ${blockAlign} does not match ${channels} channels of ${bitsPerSample} bits`);
  }
  return { format, channels, sampleRateHz, bitsPerSample, blockAlign };
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

/** Decodes after readWavHeader: the samples allocated are exactly the samples present. */
export function decodeWav(bytes: Uint8Array, maxSeconds?: number): DecodedAudio {
  const header = readWavHeader(bytes, maxSeconds);
  const { channels, frames, blockAlign } = header;
  const bytesPer = header.bitsPerSample / 8;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const dv = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, header.dataBytes);
  const read = sampleReader(header.format, bytesPer, dv);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) (out[c] as Float32Array)[f] = read(f * blockAlign + c * bytesPer);
  }
  return { sampleRateHz: header.sampleRateHz, channels: out };
}

function sampleReader(format: number, bytesPer: number, dv: DataView): (at: number) => number {
  if (format === 1) {
    if (bytesPer === 1) return (at) => (dv.getUint8(at) - 128) / 128;
    if (bytesPer === 2) return (at) => dv.getInt16(at, true) / 32768;
    if (bytesPer === 3) return (at) => (((dv.getUint8(at + 2) << 24) | (dv.getUint8(at + 1) << 16) | (dv.getUint8(at) << 8)) >> 8) / 8388608;
    return (at) => dv.getInt32(at, true) / 2147483648;
  }
  if (format === 3) return bytesPer === 4 ? (at) => dv.getFloat32(at, true) : (at) => dv.getFloat64(at, true);
  if (format === 6) return (at) => alaw(dv.getUint8(at));
  return (at) => ulaw(dv.getUint8(at));
}
