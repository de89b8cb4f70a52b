import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AudioDecodeError, decodeAudio, decodeWav, readWavHeader } from '../../src/inference/audio/index.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';

/*
 * An upload's WAV header must not size our memory: everything it claims is checked against
 * sane bounds and the bytes actually present before a sample is allocated.
 */

interface WavSpec {
  format?: number;
  channels?: number;
  rateHz?: number;
  bits?: number;
  blockAlign?: number;
  /** Sample bytes actually written. */
  dataBytes?: number;
  /** What the data chunk header claims (default: dataBytes). */
  declaredData?: number;
  fmtSize?: number;
  omitFmt?: boolean;
  /** Chunks written between fmt and data: [id, body length]. */
  extra?: Array<[string, number]>;
}

function chunk(id: string, body: Buffer, declared = body.length): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(declared, 4);
  return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
}

/** A WAV built field by field, so each header field can lie on its own. */
function wav(spec: WavSpec = {}): Buffer {
  const channels = spec.channels ?? 1;
  const bits = spec.bits ?? 16;
  const rateHz = spec.rateHz ?? 16_000;
  const fmt = Buffer.alloc(Math.max(16, spec.fmtSize ?? 16));
  fmt.writeUInt16LE(spec.format ?? 1, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rateHz, 4);
  fmt.writeUInt32LE((rateHz * channels * (bits / 8)) % 2 ** 32, 8);
  fmt.writeUInt16LE(spec.blockAlign ?? channels * (bits / 8), 12);
  fmt.writeUInt16LE(bits, 14);
  const dataBytes = spec.dataBytes ?? 3200;
  const data = Buffer.alloc(dataBytes);
  for (let i = 0; i + 1 < dataBytes; i += 2) data.writeInt16LE(Math.round(Math.sin(i / 20) * 8000), i);
  const parts = [
    ...(spec.omitFmt ? [] : [chunk('fmt ', fmt, spec.fmtSize ?? fmt.length)]),
    ...(spec.extra ?? []).map(([id, n]) => chunk(id, Buffer.alloc(n, 0x41))),
    chunk('data', data, spec.declaredData ?? dataBytes),
  ];
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(body.length + 4, 4);
  head.write('WAVE', 8, 'ascii');
  return Buffer.concat([head, body]);
}

/**
 * Runs `run` counting the Float32Array elements allocated meanwhile (the decoder's sample
 * memory, measured exactly instead of through the garbage-collected heap).
 */
async function float32Allocated(run: () => unknown): Promise<{ floats: number; error: unknown }> {
  const Real = globalThis.Float32Array;
  let floats = 0;
  class Counting extends Real {
    constructor(...args: unknown[]) {
      super(...(args as [number]));
      floats += this.length;
    }
  }
  globalThis.Float32Array = Counting as unknown as Float32ArrayConstructor;
  let error: unknown;
  try {
    await run();
  } catch (err) {
    error = err;
  } finally {
    globalThis.Float32Array = Real;
  }
  return { floats, error };
}

/** The file: 16 KB that claims 65,535 channels (1.36 GB and 8 s of event loop before). */
const manyChannels = () => wav({ channels: 65_535, blockAlign: 2, bits: 16, dataBytes: 16_300 });

describe('WAV headers are checked before any sample is allocated', () => {
  it('refuses 65,535 channels from the header alone, allocating no samples', async () => {
    const bytes = manyChannels();
    expect(bytes.length).toBeLessThan(16_500);
    expect(() => readWavHeader(bytes)).toThrow(new AudioDecodeError('WAV channel count 65535 is not supported (1 to 8)'));
    const decoded = await float32Allocated(() => decodeWav(bytes));
    expect(decoded.error).toBeInstanceOf(AudioDecodeError);
    expect(decoded.floats).toBe(0);
  });

  it.each<[string, WavSpec, string]>([
    ['no channels', { channels: 0, blockAlign: 2 }, 'WAV channel count 0 is not supported (1 to 8)'],
    ['a zero sample rate', { rateHz: 0 }, 'WAV sample rate 0 Hz is not supported (8000 to 384000 Hz)'],
    ['a 4 GHz sample rate', { rateHz: 0xffffffff }, 'WAV sample rate 4294967295 Hz is not supported (8000 to 384000 Hz)'],
    ['7-bit samples', { bits: 7, blockAlign: 1 }, 'unsupported WAV sample format (format 1, 7 bits)'],
    ['24-bit float', { format: 3, bits: 24 }, 'unsupported WAV sample format (format 3, 24 bits)'],
    ['an unknown format', { format: 0x55 }, 'unsupported WAV sample format (format 85, 16 bits)'],
    ['a block align that disagrees with channels × bits', { channels: 2, blockAlign: 1 }, 'WAV block align 1 does not match 2 channels of 16 bits'],
    ['no fmt chunk', { omitFmt: true }, 'WAV file has no fmt chunk'],
    ['a fmt chunk shorter than 16 bytes', { fmtSize: 12 }, 'WAV fmt chunk is truncated'],
    ['WAVE_FORMAT_EXTENSIBLE without its sub-format', { format: 0xfffe, fmtSize: 18 }, 'WAV fmt chunk (WAVE_FORMAT_EXTENSIBLE) is too short'],
    ['a hundred chunks before the audio', { extra: Array.from({ length: 100 }, () => ['junk', 1] as [string, number]) }, 'WAV file has more than 64 chunks before its audio'],
  ])('refuses %s with its own error', async (_name, spec, message) => {
    const bytes = wav(spec);
    expect(() => readWavHeader(bytes)).toThrow(new AudioDecodeError(message));
    expect(await float32Allocated(() => decodeWav(bytes))).toEqual({ floats: 0, error: new AudioDecodeError(message) });
  });

  it('refuses a fmt chunk whose size runs past the end of the file', () => {
    const bytes = wav();
    bytes.writeUInt32LE(0x7fffffff, 16); // the fmt chunk's size
    expect(() => readWavHeader(bytes)).toThrow(new AudioDecodeError('WAV fmt chunk is truncated'));
  });

  it('refuses a file with no data chunk', () => {
    const bytes = wav().subarray(0, 12 + 8 + 16);
    expect(() => readWavHeader(bytes)).toThrow(new AudioDecodeError('WAV file has no data chunk'));
  });

  it('takes a data size larger than the file as the bytes present, allocating only for those', async () => {
    const bytes = wav({ dataBytes: 3200, declaredData: 0x7fff0000 });
    const header = readWavHeader(bytes);
    expect(header.dataBytes).toBe(3200);
    expect(header.frames).toBe(1600);
    expect(decodeWav(bytes).channels[0]).toHaveLength(1600);
    expect((await float32Allocated(() => decodeWav(bytes))).floats).toBe(1600);
  });

  it('drops a trailing partial frame instead of reading past the data', () => {
    const bytes = wav({ channels: 2, dataBytes: 4 * 100 + 3 });
    expect(readWavHeader(bytes)).toMatchObject({ frames: 100, dataBytes: 400 });
    expect(decodeWav(bytes).channels.map((c) => c.length)).toEqual([100, 100]);
  });

  it('reads past odd-sized chunks by their pad byte', () => {
    const bytes = wav({ extra: [['LIST', 7], ['junk', 1]], dataBytes: 801, bits: 8, blockAlign: 1 });
    const header = readWavHeader(bytes);
    expect(header.frames).toBe(801);
    expect(decodeWav(bytes).channels[0]).toHaveLength(801);
  });

  it('refuses audio longer than the limit from the header, before decoding', async () => {
    const bytes = wav({ rateHz: 8_000, dataBytes: 16_000 * 2 }); // 2 s
    expect(readWavHeader(bytes, 2).frames).toBe(16_000);
    expect(() => readWavHeader(bytes, 1)).toThrow(new AudioDecodeError('the audio is 2 s long; at most 1 s are accepted'));
    expect((await float32Allocated(() => decodeWav(bytes, 1))).floats).toBe(0);
  });

  it.each<[string, WavSpec]>([
    ['8-bit µ-law mono at 8 kHz (the worst case)', { rateHz: 8_000, bits: 8, format: 7, dataBytes: 8_000 }],
    ['8-bit PCM, 8 channels at 8 kHz', { rateHz: 8_000, channels: 8, bits: 8, dataBytes: 8 * 8_000 }],
  ])('allocates at most 12 bytes of samples per byte uploaded: %s', async (_name, spec) => {
    const bytes = wav(spec);
    let audio: Float32Array = new Float32Array(0);
    const { floats, error } = await float32Allocated(async () => (audio = await decodeAudio(bytes)));
    expect(error).toBeUndefined();
    expect(audio.length).toBe(16_000);
    // The channels as decoded, their mix, and twice the frames once resampled to 16 kHz.
    expect(floats * 4).toBeLessThanOrEqual(bytes.length * 12);
  });

  it('20,000 mutated headers raise only AudioDecodeError and never allocate more samples than bytes', async () => {
    const base = wav({ dataBytes: 400 });
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 20_000; i++) {
      const bytes = Buffer.from(base);
      const flips = 1 + (next() % 4);
      for (let f = 0; f < flips; f++) bytes[12 + (next() % 40)] = next() & 0xff;
      const { floats, error } = await float32Allocated(() => decodeWav(bytes));
      if (error !== undefined) expect(error).toBeInstanceOf(AudioDecodeError);
      expect(floats).toBeLessThanOrEqual(bytes.length);
    }
  });
});

describeWithTool('compressed uploads are bounded by their decoded length', hasCommand('ffmpeg', ['-version']), 'ffmpeg (apt-get install ffmpeg)', () => {
  it('stops ffmpeg once the output passes the limit and answers with its own error', async () => {
    // A few kilobytes of Opus that decode to 20 s of audio.
    const res = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '20', '-c:a', 'libopus', '-b:a', '6k', '-f', 'ogg', '-']);
    expect(res.status).toBe(0);
    const opus = res.stdout;
    expect(opus.length).toBeLessThan(40_000);
    await expect(decodeAudio(opus, { maxSeconds: 5 })).rejects.toThrow(new AudioDecodeError('the audio is longer than 5 s, the most accepted'));
    expect((await decodeAudio(opus, { maxSeconds: 30 })).length).toBeGreaterThan(19 * 16_000);
  });
});
