import type { UpstreamConfig } from '../../config/index.ts';
import { AgentPhoneError } from '../../errors/index.ts';
import { usageOf, type ChatBackend, type ChatCompletion, type ChatRequest, type ChatStream, type ChatUsage } from '../runners/llm/chat-types.ts';
import type { ReplicaSet } from './replica-set.ts';
import { SseParser } from './sse.ts';

/** An upstream answered with something the gateway cannot use (mid-stream failures too). */
export class UpstreamError extends AgentPhoneError {
  constructor(message: string, status = 503) {
    super('UPSTREAM', message, { status, retryable: status >= 500 });
  }
}

const MODEL_FIELD = /"model"\s*:\s*"(?:[^"\\]|\\.)*"/;
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * One model served by OpenAI-compatible engines (one or several replicas). Requests are
 * forwarded with the engine's model name; streamed answers pass through event by event as they
 * arrive (the only rewrite is the model name), usage is taken from the engine (always asked
 * for, dropped again when the client did not ask), and the upstream request is aborted when
 * the client's signal fires. A replica that fails before answering hands the request on.
 */
export class UpstreamEngine implements ChatBackend {
  readonly model: string;
  readonly ownedBy: string;
  private readonly config: Readonly<UpstreamConfig>;
  private readonly modelJson: string;

  constructor(readonly replicas: ReplicaSet) {
    const config = replicas.config;
    this.config = config;
    this.model = config.model;
    this.ownedBy = new URL(config.baseUrl).host;
    this.modelJson = `"model":${JSON.stringify(config.model)}`;
  }

  get inFlight(): number {
    return this.replicas.replicas.reduce((n, r) => n + r.slots.active, 0);
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const { stream: _s, stream_options: _o, ...rest } = request;
    const held = await this.replicas.send(
      '/chat/completions',
      { headers: JSON_HEADERS, body: JSON.stringify({ ...rest, model: this.config.upstreamModel, stream: false }) },
      signal,
      async (res) => (await res.json()) as ChatCompletion,
    );
    held.done();
    held.value.model = this.model;
    return held.value;
  }

  stream(request: ChatRequest, signal: AbortSignal): Promise<ChatStream> {
    return this.streamFrom('/chat/completions', request, signal);
  }

  /**
   * A streamed legacy completion (`/completions` with a prompt string), as the TTS path uses for
   * an Orpheus LM served by vLLM: events are the engine's chunks with the model name rewritten.
   */
  streamCompletion(body: { prompt: string; [key: string]: unknown }, signal: AbortSignal): Promise<ChatStream> {
    return this.streamFrom('/completions', { ...body, model: this.model, messages: [] } as ChatRequest, signal);
  }

  private async streamFrom(path: string, request: ChatRequest, signal: AbortSignal): Promise<ChatStream> {
    const { messages, ...rest } = request;
    const payload = { ...rest, ...(path === '/chat/completions' && { messages }), model: this.config.upstreamModel, stream: true, stream_options: { ...request.stream_options, include_usage: true } };
    const held = await this.replicas.send(path, { headers: JSON_HEADERS, body: JSON.stringify(payload) }, signal, (res) => Promise.resolve(res.body as ReadableStream<Uint8Array>));
    const { call, replica } = held;
    const wantUsage = request.stream_options?.include_usage === true;
    let usage: ChatUsage | undefined;
    let contentChunks = 0;
    const rewrite = (data: string): string | undefined => {
      if (data.includes('"usage":{') || data.includes('"usage": {')) {
        const chunk = JSON.parse(data) as { model?: string; usage?: ChatUsage | null; choices?: unknown[] };
        if (chunk.usage) usage = chunk.usage;
        if (!wantUsage) {
          if (!chunk.choices || chunk.choices.length === 0) return undefined;
          delete chunk.usage;
        }
        chunk.model = this.model;
        if (chunk.choices?.length) contentChunks++;
        return JSON.stringify(chunk);
      }
      if (data.includes('"content"')) contentChunks++;
      return data.replace(MODEL_FIELD, this.modelJson);
    };
    const reader = held.value.getReader();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      held.done();
      // Stops the upstream generating for a client that has gone (no-op when it ended).
      void reader.cancel().catch(() => undefined);
    };
    const model = this.model;
    const translate = (err: unknown): Error => {
      if (err instanceof AgentPhoneError) return err;
      if (call.clientGone) return err instanceof Error ? err : new Error(String(err));
      const why = call.timedOut ?? 'closed the connection mid-answer';
      return new UpstreamError(`model ${model} failed mid-answer: its upstream engine at ${replica.label} ${why}`);
    };
    async function* events(): AsyncGenerator<string> {
      const parser = new SseParser();
      try {
        call.arm();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          call.arm();
          for (const ev of parser.push(value)) {
            if (ev.data === '[DONE]') return;
            const out = rewrite(ev.data);
            if (out !== undefined) yield out;
          }
        }
        for (const ev of parser.end()) {
          if (ev.data === '[DONE]') return;
          const out = rewrite(ev.data);
          if (out !== undefined) yield out;
        }
      } catch (err) {
        throw translate(err);
      } finally {
        close();
      }
    }
    return {
      events: events(),
      close,
      usage: () => usage ?? (contentChunks > 0 ? usageOf(0, contentChunks) : undefined),
    };
  }
}
