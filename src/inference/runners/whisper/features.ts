import { RealPowerSpectrum } from './fft.ts';

/*
 * Whisper's log-mel features, as its reference implementation computes them: 16 kHz audio
 * padded or cut to 30 s, STFT with n_fft 400, hop 160 and a periodic Hann window (centred,
 * reflect padding, last frame dropped), power spectrum, Slaney-style mel filters (80 or
 * 128), log10 of at least 1e-10, floor at max − 8, then (x + 4) / 4. Pure: no I/O.
 */

export const SAMPLE_RATE_HZ = 16_000;
export const N_FFT = 400;
export const HOP_LENGTH = 160;
export const CHUNK_SAMPLES = 480_000;
export const N_FRAMES = 3000;

const hzToMel = (f: number): number => (f < 1000 ? (3 * f) / 200 : 15 + (27 * Math.log(f / 1000)) / Math.log(6.4));
const melToHz = (m: number): number => (m < 15 ? (200 * m) / 3 : 1000 * Math.exp(((m - 15) * Math.log(6.4)) / 27));

/** A sparse mel filter bank: per band, its first bin and weights. */
export interface MelFilters {
  nMels: number;
  start: Int32Array;
  weights: Float64Array[];
}

const filterCache = new Map<number, MelFilters>();

/** librosa.filters.mel(sr=16000, n_fft=400, n_mels, htk=False, norm='slaney'). */
export function melFilters(nMels: number): MelFilters {
  const cached = filterCache.get(nMels);
  if (cached) return cached;
  const nBins = N_FFT / 2 + 1;
  const fftFreqs = Array.from({ length: nBins }, (_, i) => (i * SAMPLE_RATE_HZ) / N_FFT);
  const maxMel = hzToMel(SAMPLE_RATE_HZ / 2);
  const melF = Array.from({ length: nMels + 2 }, (_, i) => melToHz((i * maxMel) / (nMels + 1)));
  const start = new Int32Array(nMels);
  const weights: Float64Array[] = [];
  for (let m = 0; m < nMels; m++) {
    const lo = melF[m] as number;
    const mid = melF[m + 1] as number;
    const hi = melF[m + 2] as number;
    const enorm = 2 / (hi - lo);
    const row: number[] = [];
    let first = -1;
    for (let k = 0; k < nBins; k++) {
      const f = fftFreqs[k] as number;
      const w = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid))) * enorm;
      if (w > 0) {
        if (first < 0) first = k;
        row[k - first] = w;
      } else if (first >= 0) {
        break;
      }
    }
    start[m] = Math.max(0, first);
    weights.push(Float64Array.from(row, (w) => w ?? 0));
  }
  const filters = { nMels, start, weights };
  filterCache.set(nMels, filters);
  return filters;
}

let hann: Float64Array | undefined;
function hannWindow(): Float64Array {
  hann ??= Float64Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
  return hann;
}

/**
 * log10 mel energies of `frames` frames of `audio`, seen as `n` samples (zeros past its end),
 * reflect-padded by n_fft/2 at both ends; written mel-major into `out` (row length `frames`) when
 * given. Returns their max.
 */
function logMelRows(audio: Float32Array, nMels: number, n: number, frames: number, out: Float32Array | null): number {
  const filters = melFilters(nMels);
  const window = hannWindow();
  const pad = N_FFT / 2;
  const len = Math.min(audio.length, n);
  // Sample i of the signal, reflect-padded by n_fft/2 on both sides.
  const at = (i: number): number => {
    let j = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    if (j < 0) j = 0;
    return j < len ? (audio[j] as number) : 0;
  };
  const spectrum = new RealPowerSpectrum(N_FFT);
  const frame = new Float64Array(N_FFT);
  const power = new Float64Array(N_FFT / 2 + 1);
  let max = -Infinity;
  for (let t = 0; t < frames; t++) {
    const begin = t * HOP_LENGTH - pad;
    if (begin >= 0 && begin + N_FFT <= len) {
      for (let k = 0; k < N_FFT; k++) frame[k] = (audio[begin + k] as number) * (window[k] as number);
    } else {
      for (let k = 0; k < N_FFT; k++) frame[k] = at(begin + k) * (window[k] as number);
    }
    spectrum.compute(frame, power);
    for (let m = 0; m < nMels; m++) {
      const w = filters.weights[m] as Float64Array;
      const s = filters.start[m] as number;
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += (w[k] as number) * (power[s + k] as number);
      const v = Math.log10(Math.max(acc, 1e-10));
      if (out) out[m * frames + t] = v;
      if (v > max) max = v;
    }
  }
  return max;
}

/**
 * The largest log10 mel energy of a whole recording: the reference computes features over the
 * whole file, so every window's floor is this max − 8, not its own.
 */
export function logMelMax(audio: Float32Array, nMels: number): number {
  // The reference pads 30 s of zeros past the end; frames beyond the audio only see those.
  const frames = Math.floor(audio.length / HOP_LENGTH) + 1;
  return logMelRows(audio, nMels, audio.length + CHUNK_SAMPLES, frames, null);
}

/**
 * Log-mel features [nMels × 3000] (mel-major) of up to 30 s of 16 kHz mono audio. `fileMax`:
 * the whole recording's logMelMax, for the floor (default: this window's own max).
 */
export function logMelSpectrogram(audio: Float32Array, nMels: number, out = new Float32Array(nMels * N_FRAMES), fileMax?: number): Float32Array {
  const max = logMelRows(audio, nMels, CHUNK_SAMPLES, N_FRAMES, out);
  const floor = Math.max(max, fileMax ?? -Infinity) - 8;
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(out[i] as number, floor) + 4) / 4;
  return out;
}
