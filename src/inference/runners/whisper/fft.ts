/*
 * Mixed-radix complex FFT (kissfft's recursive decimation in time with generic butterflies)
 * and a real-input transform on top of it. Whisper's n_fft is 400 = 2^4·5^2, so a
 * power-of-two FFT would change the frequency bins; this one takes any length whose factors
 * are small.
 */

function factorize(n: number): number[] {
  const factors: number[] = [];
  let rest = n;
  for (const p of [4, 2, 3, 5]) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  for (let p = 7; rest > 1; p += 2) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  return factors;
}

/** A plan for complex FFTs of one length; reuse it (it holds twiddles and scratch). */
export class ComplexFft {
  private readonly factors: number[];
  private readonly twRe: Float64Array;
  private readonly twIm: Float64Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;

  constructor(readonly size: number) {
    this.factors = factorize(size);
    this.twRe = new Float64Array(size);
    this.twIm = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      this.twRe[i] = Math.cos((-2 * Math.PI * i) / size);
      this.twIm[i] = Math.sin((-2 * Math.PI * i) / size);
    }
    const maxP = Math.max(...this.factors, 1);
    this.scratchRe = new Float64Array(maxP);
    this.scratchIm = new Float64Array(maxP);
  }

  /** out = DFT(in); in and out must not overlap. */
  transform(inRe: Float64Array, inIm: Float64Array, outRe: Float64Array, outIm: Float64Array): void {
    this.work(outRe, outIm, 0, inRe, inIm, 0, 1, 0, this.size);
  }

  private work(oRe: Float64Array, oIm: Float64Array, oOff: number, iRe: Float64Array, iIm: Float64Array, iOff: number, fstride: number, fi: number, n: number): void {
    const p = this.factors[fi] as number;
    const m = n / p;
    if (m === 1) {
      for (let q = 0; q < p; q++) {
        oRe[oOff + q] = iRe[iOff + q * fstride] as number;
        oIm[oOff + q] = iIm[iOff + q * fstride] as number;
      }
    } else {
      for (let q = 0; q < p; q++) this.work(oRe, oIm, oOff + q * m, iRe, iIm, iOff + q * fstride, fstride * p, fi + 1, m);
    }
    this.butterfly(oRe, oIm, oOff, fstride, p, m);
  }

  private butterfly(re: Float64Array, im: Float64Array, off: number, fstride: number, p: number, m: number): void {
    const { twRe, twIm, scratchRe: sr, scratchIm: si, size } = this;
    if (p === 2) {
      for (let k = 0; k < m; k++) {
        const a = off + k;
        const b = a + m;
        const wr = twRe[k * fstride] as number;
        const wi = twIm[k * fstride] as number;
        const tr = (re[b] as number) * wr - (im[b] as number) * wi;
        const ti = (re[b] as number) * wi + (im[b] as number) * wr;
        re[b] = (re[a] as number) - tr;
        im[b] = (im[a] as number) - ti;
        re[a] = (re[a] as number) + tr;
        im[a] = (im[a] as number) + ti;
      }
      return;
    }
    const step = fstride * m;
    for (let k = 0; k < m; k++) {
      for (let q1 = 0; q1 < p; q1++) {
        const idx = off + k + q1 * m;
        const t = (q1 * k * fstride) % size;
        const wr = twRe[t] as number;
        const wi = twIm[t] as number;
        sr[q1] = (re[idx] as number) * wr - (im[idx] as number) * wi;
        si[q1] = (re[idx] as number) * wi + (im[idx] as number) * wr;
      }
      for (let q = 0; q < p; q++) {
        let accRe = sr[0] as number;
        let accIm = si[0] as number;
        for (let q1 = 1; q1 < p; q1++) {
          const t = (q * q1 * step) % size;
          const wr = twRe[t] as number;
          const wi = twIm[t] as number;
          accRe += (sr[q1] as number) * wr - (si[q1] as number) * wi;
          accIm += (sr[q1] as number) * wi + (si[q1] as number) * wr;
        }
        re[off + k + q * m] = accRe;
        im[off + k + q * m] = accIm;
      }
    }
  }
}

/** Power spectrum |X[k]|², k = 0..n/2, of a real frame of even length n, via one n/2 complex FFT. */
export class RealPowerSpectrum {
  private readonly half: ComplexFft;
  private readonly zRe: Float64Array;
  private readonly zIm: Float64Array;
  private readonly fRe: Float64Array;
  private readonly fIm: Float64Array;
  private readonly wRe: Float64Array;
  private readonly wIm: Float64Array;

  constructor(readonly size: number) {
    if (size % 2 !== 0) throw new Error('RealPowerSpectrum needs an even length');
    const h = size / 2;
    this.half = new ComplexFft(h);
    this.zRe = new Float64Array(h);
    this.zIm = new Float64Array(h);
    this.fRe = new Float64Array(h);
    this.fIm = new Float64Array(h);
    this.wRe = new Float64Array(h + 1);
    this.wIm = new Float64Array(h + 1);
    for (let k = 0; k <= h; k++) {
      this.wRe[k] = Math.cos((-2 * Math.PI * k) / size);
      this.wIm[k] = Math.sin((-2 * Math.PI * k) / size);
    }
  }

  /** frame: `size` samples from `offset`; out: size/2 + 1 values. */
  compute(frame: Float64Array, out: Float64Array): void {
    const h = this.size / 2;
    const { zRe, zIm, fRe, fIm, wRe, wIm } = this;
    for (let n = 0; n < h; n++) {
      zRe[n] = frame[2 * n] as number;
      zIm[n] = frame[2 * n + 1] as number;
    }
    this.half.transform(zRe, zIm, fRe, fIm);
    for (let k = 0; k <= h; k++) {
      const a = k % h;
      const b = (h - k) % h;
      const zr = fRe[a] as number;
      const zi = fIm[a] as number;
      const cr = fRe[b] as number;
      const ci = -(fIm[b] as number);
      // Even and odd halves: E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i.
      const er = (zr + cr) / 2;
      const ei = (zi + ci) / 2;
      const or = (zi - ci) / 2;
      const oi = -(zr - cr) / 2;
      const xr = er + (wRe[k] as number) * or - (wIm[k] as number) * oi;
      const xi = ei + (wRe[k] as number) * oi + (wIm[k] as number) * or;
      out[k] = xr * xr + xi * xi;
    }
  }
}
