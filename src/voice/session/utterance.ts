import { Resampler } from '../audio/resampler.ts';
import { STT_RATE_HZ } from '../ports.ts';
import { SAMPLE_RATE_HZ } from '../rtp/media-stream.ts';

/**
 * The caller audio of one utterance, converted to 16 kHz for STT frame by frame as it is heard,
 * so the end of a turn does not wait on resampling the whole utterance. The result equals a
 * one-shot `resample()` of the same audio (the filter's delay is taken off at the end).
 */
export class Utterance {
  private readonly heard: Int16Array[] = [];
  private readonly resampler = new Resampler(SAMPLE_RATE_HZ, STT_RATE_HZ);
  private readonly converted: Int16Array[] = [];
  private samples = 0;

  constructor(frames: Iterable<Int16Array> = []) {
    for (const f of frames) this.add(f);
  }

  add(frame: Int16Array): void {
    this.heard.push(frame);
    this.samples += frame.length;
    this.converted.push(this.resampler.process(frame));
  }

  /** The 8 kHz frames, oldest first. */
  get frames(): readonly Int16Array[] {
    return this.heard;
  }

  /** Length of the audio heard so far (ms). */
  get durationMs(): number {
    return (this.samples * 1000) / SAMPLE_RATE_HZ;
  }

  get empty(): boolean {
    return this.heard.length === 0;
  }

  /** The whole utterance at 16 kHz. Call once: it flushes the filter. */
  finish(): Int16Array {
    const tail = this.resampler.flush();
    const total = this.converted.reduce((n, c) => n + c.length, 0) + tail.length;
    const all = new Int16Array(total);
    let o = 0;
    for (const c of [...this.converted, tail]) {
      all.set(c, o);
      o += c.length;
    }
    const length = Math.round((this.samples * STT_RATE_HZ) / SAMPLE_RATE_HZ);
    const start = this.resampler.delaySamples;
    return all.slice(start, start + length);
  }
}
