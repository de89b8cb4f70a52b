/*
 * Downmix and band-limited resampling to 16 kHz mono: windowed-sinc interpolation (Blackman
 * window) with the cutoff at the lower Nyquist frequency, so downsampling does not alias.
 */

export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0] as Float32Array;
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (c[i] as number);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) / channels.length;
  return out;
}

const HALF_TAPS = 32;

export function resample(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input;
  const ratio = toHz / fromHz;
  const outLength = Math.floor((input.length * toHz) / fromHz);
  const out = new Float32Array(outLength);
  const cutoff = Math.min(1, ratio) * 0.97;
  const half = Math.ceil(HALF_TAPS / Math.min(1, ratio));
  for (let i = 0; i < outLength; i++) {
    const center = i / ratio;
    const first = Math.max(0, Math.ceil(center - half));
    const last = Math.min(input.length - 1, Math.floor(center + half));
    let acc = 0;
    let norm = 0;
    for (let j = first; j <= last; j++) {
      const x = j - center;
      const t = x * cutoff;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
      const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / half) + 0.08 * Math.cos((2 * Math.PI * x) / half);
      const k = sinc * w;
      acc += (input[j] as number) * k;
      norm += k;
    }
    out[i] = norm !== 0 ? acc / norm : 0;
  }
  return out;
}
