import type { InferencePool } from '../pool.ts';
import { decodeWithFfmpeg } from './ffmpeg.ts';
import type { WavDecodePayload, WavDecodeReply } from './runner.ts';
import { AudioDecodeError, isWav, readWavHeader } from './wav.ts';

const RUNNER = new URL('./runner.ts', import.meta.url).href;

export interface DecodeUploadOptions {
  pool: InferencePool;
  maxSeconds: number;
  signal?: AbortSignal;
}

/**
 * An uploaded file → 16 kHz mono float32 without decoding on the event loop: a WAV's header
 * is checked here (a few bytes read, nothing allocated), its samples are decoded and
 * resampled on an inference worker; other formats are decoded by an ffmpeg child process.
 */
export async function decodeUpload(bytes: Uint8Array, options: DecodeUploadOptions): Promise<Float32Array> {
  const { pool, maxSeconds, signal } = options;
  if (bytes.length === 0) throw new AudioDecodeError('the audio file is empty');
  if (!isWav(bytes)) return decodeWithFfmpeg(bytes, { maxSeconds, ...(signal && { signal }) });
  readWavHeader(bytes, maxSeconds);
  // Its own buffer, moved to the worker: a Buffer from the multipart parser may share a pool slab.
  const own = new Uint8Array(bytes);
  const payload: WavDecodePayload = { bytes: own, maxSeconds };
  const reply = await pool.run<WavDecodeReply>({ runner: RUNNER, op: 'decodeWav', payload }, { transfer: [own.buffer], stage: 'audio_decode', ...(signal && { signal }) });
  if ('error' in reply) throw new AudioDecodeError(reply.error);
  return reply.audio;
}
