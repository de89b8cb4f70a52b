import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ComplexFft } from '../../../src/inference/runners/whisper/fft.ts';
import { logMelSpectrogram, N_FRAMES } from '../../../src/inference/runners/whisper/features.ts';
import { melTestSignal } from '../fixtures/mel-signal.ts';

interface Fixture {
  frames: number[];
  mel80: number[][];
  mel128: number[][];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/mel-reference.json', import.meta.url), 'utf8')) as Fixture;

describe('Whisper log-mel features', () => {
  it.each([
    [80, 'mel80'],
    [128, 'mel128'],
  ] as const)('match the independently computed reference for %i mel bins within 1e-4', (nMels, key) => {
    const features = logMelSpectrogram(melTestSignal(), nMels);
    expect(features.length).toBe(nMels * N_FRAMES);
    let worst = 0;
    fixture.frames.forEach((t, i) => {
      const ref = fixture[key][i] as number[];
      for (let m = 0; m < nMels; m++) worst = Math.max(worst, Math.abs((features[m * N_FRAMES + t] as number) - (ref[m] as number)));
    });
    expect(worst).toBeLessThan(1e-4);
  });

  it('treats audio past 30 s as cut and shorter audio as zero-padded', () => {
    const long = new Float32Array(600_000).fill(0.1);
    const cut = long.subarray(0, 480_000);
    const a = logMelSpectrogram(long, 80);
    const b = logMelSpectrogram(cut, 80);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer))).toBe(0);
    const short = logMelSpectrogram(long.subarray(0, 16_000), 80);
    expect(Buffer.compare(Buffer.from(short.buffer), Buffer.from(a.buffer))).not.toBe(0);
  });

  it('computes DFTs of any small-factor length exactly (against a naive DFT)', () => {
    for (const n of [12, 200, 400, 375]) {
      const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + (i % 7) * 0.1);
      const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.11));
      const oRe = new Float64Array(n);
      const oIm = new Float64Array(n);
      new ComplexFft(n).transform(re, im, oRe, oIm);
      for (const k of [0, 1, Math.floor(n / 3), n - 1]) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < n; j++) {
          const a = (-2 * Math.PI * k * j) / n;
          sr += (re[j] as number) * Math.cos(a) - (im[j] as number) * Math.sin(a);
          si += (re[j] as number) * Math.sin(a) + (im[j] as number) * Math.cos(a);
        }
        expect(oRe[k]).toBeCloseTo(sr, 9);
        expect(oIm[k]).toBeCloseTo(si, 9);
      }
    }
  });
});
