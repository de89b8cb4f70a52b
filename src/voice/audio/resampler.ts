/*
 * Streaming rational resampler (L/M polyphase FIR). The low-pass is a Kaiser-windowed sinc
 * with its passband edge at 85 % of the lower Nyquist frequency and its stopband (70 dB) at
 * the Nyquist frequency itself: for telephony that is flat to 3.4 kHz and silent from 4 kHz,
 * so 24 kHz TTS audio does not alias into the 8 kHz call and 8 kHz calls upsampled for STT
 * carry no images.
 */

const STOPBAND_DB = 70;
/** Transition band as a fraction of the lower Nyquist frequency. */
const TRANSITION = 0.15;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Half the filter length (Kaiser's estimate for the stopband and transition), rounded up so it
 * is divisible by `down`: the group delay is then a whole number of output samples.
 */
function designedHalfLength(fromHz: number, toHz: number, up: number, down: number): number {
  const transitionHz = TRANSITION * (Math.min(fromHz, toHz) / 2);
  const deltaOmega = (2 * Math.PI * transitionHz) / (fromHz * up);
  return Math.ceil(Math.ceil((STOPBAND_DB - 8) / (2.285 * deltaOmega) / 2) / down) * down;
}

/** The prototype low-pass at the upsampled rate, with gain `up` to restore level after zero-stuffing. */
function designLowPass(fromHz: number, toHz: number, up: number, down: number): Float64Array {
  const rateHz = fromHz * up;
  const nyquistHz = Math.min(fromHz, toHz) / 2;
  const cutoffHz = nyquistHz - (TRANSITION * nyquistHz) / 2;
  const taps = 2 * designedHalfLength(fromHz, toHz, up, down) + 1;
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const center = (taps - 1) / 2;
  const fc = cutoffHz / rateHz;
  const h = new Float64Array(Math.ceil(taps / up) * up);
  const i0beta = besselI0(beta);
  for (let n = 0; n < taps; n++) {
    const t = n - center;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const r = t / center;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0beta;
    h[n] = sinc * window * up;
  }
  return h;
}

const designs = new Map<string, Float64Array[]>();

/** The low-pass split into its `up` phases (phases[p][i] = h[p + up·i]); designed once per rate pair. */
function polyphase(fromHz: number, toHz: number, up: number, down: number): Float64Array[] {
  const key = `${fromHz}:${toHz}`;
  let phases = designs.get(key);
  if (!phases) {
    const h = designLowPass(fromHz, toHz, up, down);
    const tapsPerPhase = h.length / up;
    phases = [];
    for (let p = 0; p < up; p++) {
      const phase = new Float64Array(tapsPerPhase);
      for (let i = 0; i < tapsPerPhase; i++) phase[i] = h[p + up * i] as number;
      phases.push(phase);
    }
    designs.set(key, phases);
  }
  return phases;
}

/**
 * Converts a stream of Int16 PCM chunks from one rate to another. Chunks may be any length;
 * output is produced as soon as the input it needs has arrived (the filter delays the signal
 * by `delaySamples` output samples).
 */
export class Resampler {
  readonly fromHz: number;
  readonly toHz: number;
  /** Group delay of the filter, in output samples. */
  readonly delaySamples: number;
  private readonly up: number;
  private readonly down: number;
  private readonly tapsPerPhase: number;
  /** phases[p][i] = h[p + up*i] */
  private readonly phases: Float64Array[];
  /** The last tapsPerPhase-1 input samples, then room for the next chunk. */
  private history: Float64Array;
  private inCount = 0;
  private outCount = 0;

  constructor(fromHz: number, toHz: number) {
    if (!(Number.isInteger(fromHz) && fromHz > 0 && Number.isInteger(toHz) && toHz > 0)) {
      throw new RangeError('Resampler rates must be positive integers (Hz)');
    }
    const g = gcd(fromHz, toHz);
    this.fromHz = fromHz;
    this.toHz = toHz;
    this.up = toHz / g;
    this.down = fromHz / g;
    this.phases = polyphase(fromHz, toHz, this.up, this.down);
    this.tapsPerPhase = (this.phases[0] as Float64Array).length;
    this.delaySamples = designedHalfLength(fromHz, toHz, this.up, this.down) / this.down;
    this.history = new Float64Array(this.tapsPerPhase - 1);
  }

  /** Resamples the next chunk of the stream. */
  process(input: Int16Array): Int16Array {
    const keep = this.tapsPerPhase - 1;
    const buf = new Float64Array(keep + input.length);
    buf.set(this.history.subarray(this.history.length - keep));
    for (let i = 0; i < input.length; i++) buf[keep + i] = input[i] as number;
    const firstIndex = this.inCount - keep; // stream index of buf[0]
    this.inCount += input.length;

    // Outputs whose newest input sample has arrived: floor(n·down/up) < inCount.
    const end = Math.max(this.outCount, Math.ceil((this.inCount * this.up) / this.down));
    const pcm = new Int16Array(end - this.outCount);
    for (let o = 0; this.outCount < end; o++, this.outCount++) {
      const n = this.outCount * this.down; // position in the upsampled stream
      const newest = Math.floor(n / this.up); // newest input sample this output needs
      const phase = this.phases[n % this.up] as Float64Array;
      let acc = 0;
      const xi = newest - firstIndex;
      const taps = Math.min(this.tapsPerPhase, xi + 1);
      if (this.up === 1 && taps === this.tapsPerPhase && (taps & 1) === 1) {
        // Decimation uses the whole linear-phase filter, symmetric about its centre (an odd
        // number of taps): one multiply per pair of samples, half the work.
        const last = xi - taps + 1;
        const half = taps >> 1;
        for (let i = 0; i < half; i++) acc += (phase[i] as number) * ((buf[xi - i] as number) + (buf[last + i] as number));
        acc += (phase[half] as number) * (buf[xi - half] as number);
      } else {
        for (let i = 0; i < taps; i++) acc += (phase[i] as number) * (buf[xi - i] as number);
      }
      const v = Math.round(acc);
      pcm[o] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.history = buf.subarray(buf.length - keep);
    return pcm;
  }

  /** Pushes zeros through the filter so the last input samples come out (end of an utterance). */
  flush(): Int16Array {
    return this.process(new Int16Array(Math.ceil((this.tapsPerPhase * this.down) / this.up) + this.down));
  }
}

/** One-shot conversion of a whole buffer, delay-compensated: output[i] lines up with input time i. */
export function resample(input: Int16Array, fromHz: number, toHz: number): Int16Array {
  const r = new Resampler(fromHz, toHz);
  const head = r.process(input);
  const tail = r.flush();
  const all = new Int16Array(head.length + tail.length);
  all.set(head);
  all.set(tail, head.length);
  const length = Math.round((input.length * toHz) / fromHz);
  return all.slice(r.delaySamples, r.delaySamples + length);
}
