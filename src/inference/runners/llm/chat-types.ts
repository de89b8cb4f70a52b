/** The OpenAI chat completions wire types this gateway speaks, for local and upstream models. */

export interface ChatContentPart {
  type: string;
  text?: string;
  [key: string]: unknown;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
  name?: string;
  [key: string]: unknown;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string | string[] | null;
  seed?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  repetition_penalty?: number;
  [key: string]: unknown;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; [key: string]: unknown };
    finish_reason: FinishReason | null;
    logprobs: null;
    [key: string]: unknown;
  }>;
  usage?: ChatUsage;
  [key: string]: unknown;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string; reasoning_content?: string; tool_calls?: Array<Record<string, unknown>> };
    finish_reason: FinishReason | null;
    logprobs: null;
  }>;
  usage?: ChatUsage | null;
}

/** A streamed answer: `data` payloads (JSON text, without the `data: ` framing and without [DONE]). */
export interface ChatStream {
  events: AsyncIterable<string>;
  /** Token counts once the stream has ended (from the engine's own usage where it gave one). */
  usage(): ChatUsage | undefined;
  /** Releases the stream's resources (idempotent); for a consumer that stops early or never starts. */
  close(): void;
}

/** Where chat requests for one model go: the local runner or an upstream engine. */
export interface ChatBackend {
  readonly model: string;
  readonly ownedBy: string;
  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion>;
  /** Resolves once the backend has accepted the request, so refusals become HTTP errors. */
  stream(request: ChatRequest, signal: AbortSignal): Promise<ChatStream>;
}

export function usageOf(prompt: number, completion: number): ChatUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
