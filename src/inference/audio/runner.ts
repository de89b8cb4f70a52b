import type { TaskContext } from '../types.ts';
import { wavTo16kMono } from './index.ts';
import { AudioDecodeError } from './wav.ts';

/*
 * The audio decoding op on the inference pool's workers. A decode error comes back as a
 * value, not a throw: errors lose their class crossing threads, and the pool would report
 * it as a failed model run (500) instead of a bad upload (400).
 */

export interface WavDecodePayload {
  bytes: Uint8Array;
  maxSeconds: number;
}

export type WavDecodeReply = { audio: Float32Array } | { error: string };

function decodeWavOp(payload: WavDecodePayload, ctx: TaskContext): WavDecodeReply {
  try {
    const audio = wavTo16kMono(payload.bytes, payload.maxSeconds);
    ctx.transfer(audio.buffer);
    return { audio };
  } catch (err) {
    if (err instanceof AudioDecodeError) return { error: err.message };
    throw err;
  }
}

export const ops = { decodeWav: decodeWavOp };
