import type { UpstreamConfig } from '../../config/index.ts';
import { AgentPhoneError, UnavailableError, ValidationError } from '../../errors/index.ts';
import type { Logger } from '../../logging/index.ts';
import { usageOf, type ChatBackend, type ChatCompletion, type ChatRequest, type ChatStream, type ChatUsage } from '../runners/llm/chat-types.ts';
import { Slots } from './slots.ts';
import { SseParser } from './sse.ts';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface UpstreamEngineOptions {
  logger: Logger;
  fetch?: FetchLike;
}

/** An upstream answered with something the gateway cannot use (mid-stream failures too). */
export class UpstreamError extends AgentPhoneError {
  constructor(message: string, status = 503) {
    super('UPSTREAM', message, { status, retryable: status >= 500 });
  }
}

const MODEL_FIELD = /"model"\s*:\s*"(?:[^"\\]|\\.)*"/;
const ERROR_BODY_LIMIT = 4096;

/**
 * One model served by an OpenAI-compatible engine. Requests are forwarded with the engine's
 * model name; streamed answers pass through event by event as they arrive (the only rewrite is
 * the model name), usage is taken from the engine (always asked for, dropped again when the
 * client did not ask), and the upstream request is aborted when the client's signal fires.
 */
export class UpstreamEngine implements ChatBackend {
  readonly model: string;
  readonly ownedBy: string;
  private readonly slots: Slots;
  private readonly fetch: FetchLike;
  private readonly base: string;
  private readonly modelJson: string;
  private readonly logger: Logger;

  constructor(
    private readonly config: Readonly<UpstreamConfig>,
    options: UpstreamEngineOptions,
  ) {
    this.model = config.model;
    this.ownedBy = new URL(config.baseUrl).host;
    this.slots = new Slots(config.maxConcurrency, config.maxQueued, `the upstream engine for ${config.model}`);
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.base = config.baseUrl.replace(/\/+$/, '');
    this.modelJson = `"model":${JSON.stringify(config.model)}`;
    this.logger = options.logger.child({ mod: 'upstream', model: config.model });
  }

  get inFlight(): number {
    return this.slots.active;
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const release = await this.slots.acquire(signal);
    const call = new UpstreamCall(signal, this.config.idleTimeoutMs);
    try {
      const { stream: _s, stream_options: _o, ...rest } = request;
      const res = await this.post('/chat/completions', { ...rest, model: this.config.upstreamModel, stream: false }, call);
      call.arm();
      const body = (await res.json()) as ChatCompletion;
      body.model = this.model;
      return body;
    } catch (err) {
      throw this.translate(err, call);
    } finally {
      call.finish();
      release();
    }
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
    const release = await this.slots.acquire(signal);
    const call = new UpstreamCall(signal, this.config.idleTimeoutMs);
    let res: Response;
    try {
      const { messages, ...rest } = request;
      res = await this.post(
        path,
        { ...rest, ...(path === '/chat/completions' && { messages }), model: this.config.upstreamModel, stream: true, stream_options: { ...request.stream_options, include_usage: true } } as ChatRequest,
        call,
      );
    } catch (err) {
      call.finish();
      release();
      throw this.translate(err, call);
    }
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
    const body = res.body as ReadableStream<Uint8Array>;
    const reader = body.getReader();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      call.finish();
      release();
      // Stops the upstream generating for a client that has gone (no-op when it ended).
      void reader.cancel().catch(() => undefined);
    };
    const translate = (err: unknown) => this.translate(err, call);
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

  private async post(path: string, body: ChatRequest, call: UpstreamCall): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (this.config.apiKey !== null) headers.authorization = `Bearer ${this.config.apiKey}`;
    call.armHeaders(this.config.headersTimeoutMs);
    const res = await this.fetch(`${this.base}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: call.signal });
    if (!res.ok) throw await this.refusal(res);
    if (!res.body) throw new UpstreamError(`the upstream engine for ${this.model} answered with no body`);
    return res;
  }

  private async refusal(res: Response): Promise<AgentPhoneError> {
    let reason = '';
    try {
      const text = (await res.text()).slice(0, ERROR_BODY_LIMIT);
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
        reason = typeof parsed.error === 'object' ? (parsed.error.message ?? '') : (parsed.message ?? parsed.detail ?? parsed.error ?? '');
      } catch {
        reason = text;
      }
    } catch {
      // the reason stays empty
    }
    const why = reason ? `: ${reason}` : '';
    this.logger.warn({ status: res.status }, 'upstream engine refused a request');
    if (res.status === 400 || res.status === 404 || res.status === 413 || res.status === 422) {
      return new ValidationError(`The upstream engine for ${this.model} refused the request${why}`);
    }
    if (res.status === 401 || res.status === 403) {
      return new UnavailableError(`model ${this.model} is unavailable: its upstream engine refused the gateway's credentials (HTTP ${res.status})`);
    }
    return new UnavailableError(`model ${this.model} is unavailable: its upstream engine answered HTTP ${res.status}${why}`);
  }

  private translate(err: unknown, call: UpstreamCall): Error {
    if (err instanceof AgentPhoneError) return err;
    if (call.timedOut) return new UnavailableError(`model ${this.model} is unavailable: its upstream engine at ${this.ownedBy} ${call.timedOut}`);
    if (call.clientGone) return err instanceof Error ? err : new Error(String(err));
    const cause = err instanceof Error ? ((err.cause as { code?: string; message?: string } | undefined)?.code ?? err.cause ?? err.message) : String(err);
    const reason = typeof cause === 'string' ? cause : ((cause as { message?: string }).message ?? 'unknown error');
    this.logger.warn({ reason }, 'upstream engine unreachable');
    return new UnavailableError(`model ${this.model} is unavailable: its upstream engine at ${this.ownedBy} cannot be reached (${reason})`, { cause: err });
  }
}

/** One request's abort wiring: the client's signal, the headers deadline and the idle deadline. */
class UpstreamCall {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  timedOut: string | undefined;
  clientGone = false;
  private readonly onClientAbort = () => {
    this.clientGone = true;
    this.controller.abort(new Error('client went away'));
  };

  constructor(
    private readonly client: AbortSignal,
    private readonly idleMs: number,
  ) {
    if (client.aborted) this.onClientAbort();
    else client.addEventListener('abort', this.onClientAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  armHeaders(ms: number): void {
    this.set(ms, `did not answer within ${ms} ms`);
  }

  /** (Re)starts the idle deadline: called on each chunk. */
  arm(): void {
    this.set(this.idleMs, `went silent for ${this.idleMs} ms`);
  }

  finish(): void {
    clearTimeout(this.timer);
    this.client.removeEventListener('abort', this.onClientAbort);
  }

  private set(ms: number, why: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = why;
      this.controller.abort(new Error(why));
    }, ms);
    this.timer.unref();
  }
}
