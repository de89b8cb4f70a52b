import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioDecodeError, decodeAudio, decodeWav } from '../../src/inference/index.ts';
import { describeWithTool, hasCommand } from '../helpers/system-tool.ts';

type Sample = 'u8' | 's16' | 's24' | 's32' | 'f32' | 'f64' | 'alaw' | 'mulaw';

const TONE_HZ = 440;
const tone = (rate: number, seconds: number, channel = 0) =>
  Float64Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * (TONE_HZ + channel * 110) * i) / rate));

function linearToUlaw(x: number): number {
  const s = Math.max(-32635, Math.min(32635, Math.round(x * 32768)));
  const sign = s < 0 ? 0x80 : 0;
  let v = Math.abs(s) + 0x84;
  let exp = 7;
  for (let mask = 0x4000; (v & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (v >> (exp + 3)) & 0x0f;
  v = ~(sign | (exp << 4) | mant) & 0xff;
  return v;
}

function linearToAlaw(x: number): number {
  let s = Math.max(-32767, Math.min(32767, Math.round(x * 32768)));
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = exp === 0 ? (s >> 4) & 0x0f : (s >> (exp + 3)) & 0x0f;
  return (sign | (exp << 4) | mant) ^ 0x55;
}

/** An independent WAV writer for every sample format the decoder claims to read. */
function wav(channels: Float64Array[], rate: number, sample: Sample, extensible = false): Buffer {
  const bytes = { u8: 1, s16: 2, s24: 3, s32: 4, f32: 4, f64: 8, alaw: 1, mulaw: 1 }[sample];
  const format = { u8: 1, s16: 1, s24: 1, s32: 1, f32: 3, f64: 3, alaw: 6, mulaw: 7 }[sample];
  const frames = channels[0]!.length;
  const dataLen = frames * channels.length * bytes;
  const fmtLen = extensible ? 40 : 16;
  const buf = Buffer.alloc(12 + 8 + fmtLen + 8 + dataLen);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(fmtLen, 16);
  buf.writeUInt16LE(extensible ? 0xfffe : format, 20);
  buf.writeUInt16LE(channels.length, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * channels.length * bytes, 28);
  buf.writeUInt16LE(channels.length * bytes, 32);
  buf.writeUInt16LE(bytes * 8, 34);
  if (extensible) {
    buf.writeUInt16LE(22, 36);
    buf.writeUInt16LE(bytes * 8, 38);
    buf.writeUInt32LE(0, 40);
    buf.writeUInt16LE(format, 44);
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(buf, 46);
  }
  let at = 20 + fmtLen;
  buf.write('data', at);
  buf.writeUInt32LE(dataLen, at + 4);
  at += 8;
  for (let f = 0; f < frames; f++) {
    for (const ch of channels) {
      const x = ch[f]!;
      switch (sample) {
        case 'u8': buf.writeUInt8(Math.round(x * 127) + 128, at); break;
        case 's16': buf.writeInt16LE(Math.round(x * 32767), at); break;
        case 's24': buf.writeIntLE(Math.round(x * 8388607), at, 3); break;
        case 's32': buf.writeInt32LE(Math.round(x * 2147483647), at); break;
        case 'f32': buf.writeFloatLE(x, at); break;
        case 'f64': buf.writeDoubleLE(x, at); break;
        case 'alaw': buf.writeUInt8(linearToAlaw(x), at); break;
        case 'mulaw': buf.writeUInt8(linearToUlaw(x), at); break;
      }
      at += bytes;
    }
  }
  return buf;
}

const TOLERANCE: Record<Sample, number> = { u8: 0.01, s16: 1e-4, s24: 1e-6, s32: 1e-6, f32: 1e-6, f64: 1e-6, alaw: 0.02, mulaw: 0.02 };

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, from: number, to: number): number {
  let worst = 0;
  for (let i = from; i < to; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe('WAV decoding (no external tools)', () => {
  it.each(['u8', 's16', 's24', 's32', 'f32', 'f64', 'alaw', 'mulaw'] as const)('reads %s samples exactly at 16 kHz', async (sample) => {
    const src = tone(16_000, 0.5);
    const out = await decodeAudio(wav([src], 16_000, sample));
    expect(out.length).toBe(src.length);
    expect(maxDiff(out, src, 0, src.length)).toBeLessThan(TOLERANCE[sample]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE', () => {
    const src = tone(16_000, 0.1);
    const decoded = decodeWav(wav([src], 16_000, 's24', true));
    expect(maxDiff(decoded.channels[0]!, src, 0, src.length)).toBeLessThan(1e-6);
  });

  it.each([8_000, 22_050, 44_100, 48_000])('resamples %i Hz stereo to 16 kHz mono matching the analytic signal', async (rate) => {
    const left = tone(rate, 1);
    const right = tone(rate, 1);
    const out = await decodeAudio(wav([left, right], rate, 'f32'));
    const expected = tone(16_000, 1);
    expect(Math.abs(out.length - expected.length)).toBeLessThanOrEqual(1);
    // Away from the edges (the filter's half-width), the band-limited tone comes back intact.
    expect(maxDiff(out, expected, 200, expected.length - 200)).toBeLessThan(2e-3);
  });

  it('refuses what is not audio with its own error', async () => {
    await expect(decodeAudio(Buffer.from('RIFF\0\0\0\0WAVEjunk'))).rejects.toBeInstanceOf(AudioDecodeError);
    await expect(decodeAudio(new Uint8Array(0))).rejects.toBeInstanceOf(AudioDecodeError);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'agentphone-audio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ffmpeg(args: string[]): Buffer {
  const res = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${res.stderr.toString()}`);
  return res.stdout;
}

/** Goertzel power of one frequency, normalised by the signal's energy. */
function toneShare(x: Float32Array, freqHz: number): number {
  const k = (2 * Math.PI * freqHz) / 16_000;
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const v of x) {
    const s = v + 2 * Math.cos(k) * s1 - s2;
    s2 = s1;
    s1 = s;
    energy += v * v;
  }
  return (s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2) / (energy * x.length / 2);
}

describeWithTool('compressed audio formats', hasCommand('ffmpeg', ['-version']), 'ffmpeg (apt-get install ffmpeg)', () => {
  const source = join(dir, 'source.wav');
  writeFileSync(source, wav([tone(16_000, 2)], 16_000, 's16'));
  const formats: Array<[string, string[]]> = [
    ['mp3', ['-c:a', 'libmp3lame', '-b:a', '64k']],
    ['webm', ['-c:a', 'libopus', '-b:a', '48k']],
    ['ogg', ['-c:a', 'libvorbis', '-q:a', '4']],
    ['opus.ogg', ['-c:a', 'libopus', '-b:a', '48k']],
    ['m4a', ['-c:a', 'aac', '-b:a', '64k']],
    ['flac', ['-c:a', 'flac']],
  ];

  it.each(formats)('%s decodes to the same samples as a reference ffmpeg decode, and keeps the tone', async (ext, codec) => {
    const file = join(dir, `tone.${ext}`);
    ffmpeg(['-i', source, ...codec, file]);
    const bytes = readFileSync(file);
    const ours = await decodeAudio(bytes);
    const ref = ffmpeg(['-i', file, '-ac', '1', '-ar', '16000', '-f', 'f32le', '-']);
    const reference = new Float32Array(ref.buffer, ref.byteOffset, ref.length / 4);
    expect(ours.length).toBe(reference.length);
    expect(maxDiff(ours, reference, 0, reference.length)).toBeLessThan(1e-6);
    expect(ours.length / 16_000).toBeGreaterThan(1.9);
    expect(toneShare(ours, TONE_HZ)).toBeGreaterThan(0.8);
  });

  it('flac is lossless: the original samples come back', async () => {
    const ours = await decodeAudio(readFileSync(join(dir, 'tone.flac')));
    const original = tone(16_000, 2);
    expect(maxDiff(ours, original, 0, original.length)).toBeLessThan(1e-4);
  });

  it('a corrupt file is a decode error, not a crash', async () => {
    await expect(decodeAudio(Buffer.from('ID3garbage-garbage-garbage'))).rejects.toBeInstanceOf(AudioDecodeError);
  });
});
