import { decodeWithFfmpeg } from './ffmpeg.ts';
import { downmix, resample } from './resample.ts';
import { AudioDecodeError, decodeWav, isWav } from './wav.ts';

export const TARGET_RATE_HZ = 16_000;

/** Any supported upload → 16 kHz mono float32. WAV is decoded here; other formats by ffmpeg. */
export async function decodeAudio(bytes: Uint8Array, signal?: AbortSignal): Promise<Float32Array> {
  if (bytes.length === 0) throw new AudioDecodeError('the audio file is empty');
  if (isWav(bytes)) {
    const wav = decodeWav(bytes);
    return resample(downmix(wav.channels), wav.sampleRateHz, TARGET_RATE_HZ);
  }
  return decodeWithFfmpeg(bytes, signal);
}

export { AudioDecodeError, decodeWav, isWav, type DecodedAudio } from './wav.ts';
export { decodeWithFfmpeg, FFMPEG } from './ffmpeg.ts';
export { downmix, resample } from './resample.ts';
