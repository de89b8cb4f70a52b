import { describe, expect, it } from 'vitest';
import { resample, Resampler } from '../../../src/voice/audio/resampler.ts';
import { gainDb, tone } from './signals.ts';

describe('Resampler', () => {
  for (const [from, to] of [
    [24_000, 8000],
    [16_000, 8000],
    [8000, 16_000],
  ] as const) {
    it(`${from} → ${to} Hz is flat to 3.4 kHz and rejects 4.2 kHz and above by 60 dB`, () => {
      for (const hz of [300, 1000, 2000, 3400]) expect(Math.abs(gainDb(resample(tone(hz, from, from), from, to)))).toBeLessThan(0.1);
      for (const hz of [4200, 5000, 7000].filter((f) => f < from / 2)) expect(gainDb(resample(tone(hz, from, from), from, to))).toBeLessThan(-60);
    });
  }

  it('8 → 16 kHz leaves no image of a 1 kHz tone at 7 kHz', () => {
    const up = resample(tone(1000, 8000, 8000), 8000, 16_000);
    // Project onto the 7 kHz image: Goertzel-style correlation.
    let re = 0;
    let im = 0;
    for (let i = 0; i < up.length; i++) {
      re += (up[i] as number) * Math.cos((2 * Math.PI * 7000 * i) / 16_000);
      im += (up[i] as number) * Math.sin((2 * Math.PI * 7000 * i) / 16_000);
    }
    const imageAmplitude = (2 * Math.hypot(re, im)) / up.length;
    expect(20 * Math.log10(imageAmplitude / 10_000)).toBeLessThan(-60);
  });

  it('gives the same samples whether fed whole or in 20 ms chunks of odd sizes', () => {
    const input = tone(440, 24_000, 4800);
    const whole = new Resampler(24_000, 8000).process(input);
    const r = new Resampler(24_000, 8000);
    const parts: number[] = [];
    for (let i = 0, size = 7; i < input.length; i += size, size = size === 7 ? 480 : 7) parts.push(...r.process(input.subarray(i, i + size)));
    expect(Int16Array.from(parts)).toEqual(whole);
  });

  it('compensates its delay in one-shot mode: a 1 kHz sine stays in phase', () => {
    const y = resample(tone(1000, 24_000, 2400), 24_000, 8000);
    const expected = tone(1000, 8000, 800);
    for (let i = 100; i < 700; i++) expect(Math.abs((y[i] as number) - (expected[i] as number))).toBeLessThan(30);
  });

  it('refuses rates that are not positive integers', () => {
    expect(() => new Resampler(0, 8000)).toThrow(RangeError);
    expect(() => new Resampler(8000.5, 16_000)).toThrow(RangeError);
  });
});
