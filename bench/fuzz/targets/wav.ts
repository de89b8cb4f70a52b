/** WAV uploads (the transcription route's own decoder): RIFF chunks, fmt, every sample format. */
import { AgentPhoneError } from '../../../src/errors/index.ts';
import { AudioDecodeError, DEFAULT_MAX_AUDIO_SECONDS, wavTo16kMono } from '../../../src/inference/audio/index.ts';
import { tokens } from '../mutate.ts';
import type { FuzzTarget } from '../target.ts';

interface Shape {
  format: number;
  channels: number;
  rateHz: number;
  bits: number;
  frames: number;
  extensible?: boolean;
  /** Chunks before fmt/data, e.g. LIST; odd sizes exercise the pad byte. */
  extra?: Uint8Array;
  dataSize?: number;
}

/** A RIFF/WAVE file of the given shape with a quiet ramp for samples. */
export function wavFile(s: Shape): Uint8Array {
  const blockAlign = (s.channels * s.bits) / 8;
  const data = Buffer.alloc(s.frames * blockAlign);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
  const fmt = Buffer.alloc(s.extensible ? 40 : 16);
  fmt.writeUInt16LE(s.extensible ? 0xfffe : s.format, 0);
  fmt.writeUInt16LE(s.channels, 2);
  fmt.writeUInt32LE(s.rateHz, 4);
  fmt.writeUInt32LE(s.rateHz * blockAlign, 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(s.bits, 14);
  if (s.extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(s.bits, 18);
    fmt.writeUInt32LE(s.channels === 1 ? 4 : 3, 20);
    fmt.writeUInt16LE(s.format, 24);
  }
  const chunk = (id: string, body: Uint8Array, size = body.length) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(size, 4);
    return Buffer.concat([head, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const body = Buffer.concat([Buffer.from('WAVE'), s.extra ?? Buffer.alloc(0), chunk('fmt ', fmt), chunk('data', data, s.dataSize)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return new Uint8Array(Buffer.concat([riff, body]));
}

const LIST = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx'), Buffer.alloc(1)]);

function seeds(): Uint8Array[] {
  const shapes: Shape[] = [
    { format: 1, channels: 1, rateHz: 16_000, bits: 16, frames: 64 },
    { format: 1, channels: 2, rateHz: 44_100, bits: 16, frames: 32 },
    { format: 1, channels: 1, rateHz: 8000, bits: 8, frames: 64 },
    { format: 1, channels: 2, rateHz: 48_000, bits: 24, frames: 16 },
    { format: 1, channels: 1, rateHz: 22_050, bits: 32, frames: 16 },
    { format: 3, channels: 1, rateHz: 16_000, bits: 32, frames: 16 },
    { format: 3, channels: 2, rateHz: 16_000, bits: 64, frames: 8 },
    { format: 6, channels: 1, rateHz: 8000, bits: 8, frames: 64 },
    { format: 7, channels: 1, rateHz: 8000, bits: 8, frames: 64, extra: LIST },
    { format: 1, channels: 2, rateHz: 16_000, bits: 16, frames: 16, extensible: true },
    { format: 3, channels: 1, rateHz: 16_000, bits: 32, frames: 16, extensible: true },
    { format: 1, channels: 1, rateHz: 16_000, bits: 16, frames: 33, dataSize: 0xffffffff },
    { format: 1, channels: 1, rateHz: 16_000, bits: 16, frames: 8, dataSize: 0 },
  ];
  return shapes.map(wavFile);
}

export function createTarget(): FuzzTarget {
  return {
    name: 'wav',
    corpus: {
      seeds: seeds(),
      dictionary: [...tokens('RIFF', 'WAVE', 'fmt ', 'data', 'LIST', 'fact'), Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(0xfe, 0xff), Uint8Array.of(0xff, 0xff), Uint8Array.of(0, 0, 0, 0)],
      maxBytes: 16_384,
    },
    // What the gateway's worker runs for a WAV upload: header checks, decode, downmix, 16 kHz.
    run: (input) => wavTo16kMono(input, DEFAULT_MAX_AUDIO_SECONDS),
    expected: (err) => err instanceof AudioDecodeError || err instanceof AgentPhoneError,
  };
}
