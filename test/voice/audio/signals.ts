/** Test signals and measurements for the audio tests (not a test file itself). */
export function tone(hz: number, rateHz: number, samples: number, amplitude = 10_000): Int16Array {
  const x = new Int16Array(samples);
  for (let i = 0; i < samples; i++) x[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rateHz));
  return x;
}

/** Level of `y` relative to a sine of `amplitude`, in dB, ignoring `edge` samples at each end. */
export function gainDb(y: Int16Array, edge = 200, amplitude = 10_000): number {
  let sum = 0;
  for (let i = edge; i < y.length - edge; i++) sum += (y[i] as number) ** 2;
  const rms = Math.sqrt(sum / (y.length - 2 * edge));
  return 20 * Math.log10(rms / (amplitude / Math.SQRT2) || 1e-12);
}

/** A linear chirp from f0 to f1 Hz over the buffer: every frequency in between. */
export function chirp(f0: number, f1: number, rateHz: number, samples: number, amplitude = 8000): Int16Array {
  const x = new Int16Array(samples);
  const duration = samples / rateHz;
  for (let i = 0; i < samples; i++) {
    const t = i / rateHz;
    x[i] = Math.round(amplitude * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * duration))));
  }
  return x;
}

/** Signal-to-difference ratio of b against a, in dB, over [from, to). */
export function snrDb(a: Int16Array, b: Int16Array, from: number, to: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    signal += (a[i] as number) ** 2;
    noise += ((a[i] as number) - (b[i] as number)) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}
