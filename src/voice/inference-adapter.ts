import { SileroVad } from './audio/silero-vad.ts';
import type { ChatMessage, TimedResult, VadSession, VoiceInference } from './ports.ts';

/**
 * The speech services the turn loop needs, as plain functions, so voice does not depend on how
 * src/inference builds them (pool runners or upstream engines).
 */
export interface SpeechServices {
  /** Whisper on 16 kHz mono float PCM in [-1, 1]. */
  transcribe(pcm16k: Float32Array, signal: AbortSignal): Promise<string>;
  /** Orpheus: 24 kHz mono 16-bit PCM chunks as they are decoded. */
  speak(text: string, voice: string, signal: AbortSignal): AsyncIterable<Int16Array | Uint8Array>;
  chat(messages: ChatMessage[], signal: AbortSignal): Promise<string>;
}

async function timed<T>(work: Promise<T>): Promise<TimedResult<T>> {
  const started = performance.now();
  const value = await work;
  return { value, modelMs: performance.now() - started };
}

/** Binds the speech services and a shared Silero model into the VoiceInference port. */
export async function createVoiceInference(services: SpeechServices, vadModelPath?: string): Promise<VoiceInference & { close(): Promise<void> }> {
  const vad = await SileroVad.load(vadModelPath);
  return {
    vad: async (): Promise<VadSession> => vad.open(),
    transcribe: (pcm16k, signal) => {
      const f = new Float32Array(pcm16k.length);
      for (let i = 0; i < f.length; i++) f[i] = (pcm16k[i] as number) / 32768;
      return timed(services.transcribe(f, signal));
    },
    async *speak(text, voice, signal) {
      for await (const chunk of services.speak(text, voice, signal)) {
        if (chunk instanceof Int16Array) yield chunk;
        // Bytes: little-endian 16-bit samples; an odd trailing byte cannot be a sample.
        else yield new Int16Array(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + (chunk.byteLength & ~1)));
      }
    },
    chat: (messages, signal) => timed(services.chat(messages, signal)),
    close: () => vad.close(),
  };
}
