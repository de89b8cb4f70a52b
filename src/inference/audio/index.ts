import { decodeWithFfmpeg } from './ffmpeg.ts';
import { downmix, resample } from './resample.ts';
import { AudioDecodeError, decodeWav, isWav } from './wav.ts';

export const TARGET_RATE_HZ = 16_000;

/** Longest audio decoded when the caller sets no limit (inference.maxAudioSeconds' default). */
export const DEFAULT_MAX_AUDIO_SECONDS = 3600;

export interface DecodeAudioOptions {
  signal?: AbortSignal;
  /** Longer audio is refused (AudioDecodeError) before its samples are allocated. */
  maxSeconds?: number;
}

/**
 * Any supported upload → 16 kHz mono float32, on the calling thread. WAV is decoded here;
 * other formats by ffmpeg. The gateway calls decodeUpload, which runs the WAV path on the
 * inference pool.
 */
export async function decodeAudio(bytes: Uint8Array, options: DecodeAudioOptions = {}): Promise<Float32Array> {
  const maxSeconds = options.maxSeconds ?? DEFAULT_MAX_AUDIO_SECONDS;
  if (bytes.length === 0) throw new AudioDecodeError('the audio file is empty');
  if (isWav(bytes)) return wavTo16kMono(bytes, maxSeconds);
  return decodeWithFfmpeg(bytes, { maxSeconds, ...(options.signal && { signal: options.signal }) });
}

/** The WAV path: decode, downmix, resample. CPU-bound, so the gateway runs it on a worker. */
export function wavTo16kMono(bytes: Uint8Array, maxSeconds: number): Float32Array {
  const wav = decodeWav(bytes, maxSeconds);
  return resample(downmix(wav.channels), wav.sampleRateHz, TARGET_RATE_HZ);
}

export { decodeUpload } from './off-thread.ts';
export { AudioDecodeError, decodeWav, isWav, readWavHeader, WAV_LIMITS, type DecodedAudio, type WavHeader } from './wav.ts';
export { decodeWithFfmpeg, FFMPEG, FFMPEG_MISSING, ffmpegAvailable, type FfmpegDecodeOptions } from './ffmpeg.ts';
export { downmix, resample } from './resample.ts';
