/*
 * The voice domain's ports to the outside world: inference (VAD, STT, TTS, chat) and the agent
 * that decides what to say. The composition root binds them to src/inference and webhooks.
 */

/** A per-call voice activity detector (Silero keeps state across windows). */
export interface VadSession {
  /** Window length it wants, in 8 kHz samples (Silero v5: 256 = 32 ms). */
  readonly windowSamples: number;
  /**
   * Speech probability 0–1 for the newest window of 8 kHz audio. `newSamples` says how many of
   * its samples are new since the previous call (fewer than the window: the windows overlap, so
   * a decision can be made on every 20 ms frame); all of them when omitted.
   */
  probability(window8k: Int16Array, newSamples?: number): Promise<number>;
  close(): void;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TimedResult<T> {
  value: T;
  /** Time spent in the model (for the gateway-share latency figure). */
  modelMs: number;
}

/** What the turn loop needs from inference. */
export interface VoiceInference {
  vad(): Promise<VadSession>;
  transcribe(pcm16k: Int16Array, signal: AbortSignal): Promise<TimedResult<string>>;
  /** Streams 24 kHz mono PCM as it is generated; the first chunk should come as soon as possible. */
  speak(text: string, voice: string, signal: AbortSignal): AsyncIterable<Int16Array>;
  chat(messages: ChatMessage[], signal: AbortSignal): Promise<TimedResult<string>>;
}

export const TTS_RATE_HZ = 24_000;
export const STT_RATE_HZ = 16_000;

/** What the agent asks the call to do after a turn. */
export type AgentAction =
  | { action: 'respond'; reply: string }
  | { action: 'transfer'; to: string; reply?: string }
  | { action: 'hangup'; reply?: string }
  | { action: 'ignore' };

export interface TurnRequest {
  callId: string;
  numberId: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  /** What the caller said ('' for a DTMF-only turn). */
  transcript: string;
  dtmf: string | null;
  /** The conversation so far, oldest first (without the system prompt). */
  history: ChatMessage[];
  /** Per-call instructions (outbound calls) or the number's prompt. */
  instructions: string | null;
}

/** Decides the reply: the number's webhook, or the built-in chat model. */
export interface CallAgent {
  turn(request: TurnRequest, signal: AbortSignal): Promise<TimedResult<AgentAction>>;
}
