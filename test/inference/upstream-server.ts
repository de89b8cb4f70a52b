import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the loopback engine received. */
export interface UpstreamRequest {
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  /** Resolves when the client closed the connection before the answer ended. */
  aborted: Promise<void>;
}

export interface UpstreamScript {
  /** Content pieces streamed one chunk each. */
  pieces: string[];
  promptTokens: number;
  /** Awaited before the piece of that index is written (lets a test hold the stream). */
  before?: (index: number) => Promise<void>;
  /** Status and body to refuse with instead of answering. */
  refuse?: { status: number; body: unknown };
}

/**
 * A real HTTP server on loopback that speaks the OpenAI chat completions protocol like vLLM:
 * JSON answers, SSE chunks (`data: {...}\n\n`), a usage chunk with empty choices when
 * stream_options.include_usage is set, and `data: [DONE]`.
 */
export class LoopbackUpstream {
  readonly requests: UpstreamRequest[] = [];
  script: UpstreamScript = { pieces: ['Hello', ' from', ' upstream'], promptTokens: 11 };
  private server: Server | undefined;
  private waiters: Array<(r: UpstreamRequest) => void> = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  nextRequest(): Promise<UpstreamRequest> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      // What the gateway asks before listing this engine's model (answered as vLLM does).
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [] }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    let markAborted = () => {};
    const aborted = new Promise<void>((resolve) => (markAborted = resolve));
    res.on('close', () => {
      if (!res.writableFinished) markAborted();
    });
    const request = { body, headers: req.headers, aborted };
    this.requests.push(request);
    for (const w of this.waiters.splice(0)) w(request);
    const script = this.script;
    if (req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    if (script.refuse) {
      res.writeHead(script.refuse.status, { 'content-type': 'application/json' }).end(JSON.stringify(script.refuse.body));
      return;
    }
    const model = body.model as string;
    const id = 'chatcmpl-loopback1';
    const created = 1_700_000_000;
    const usage = { prompt_tokens: script.promptTokens, completion_tokens: script.pieces.length, total_tokens: script.promptTokens + script.pieces.length };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: script.pieces.join('') }, finish_reason: 'stop', logprobs: null }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage && { usage: null }) })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (let i = 0; i < script.pieces.length; i++) {
      await script.before?.(i);
      if (res.destroyed) return;
      res.write(chunk({ content: script.pieces[i] }, null));
    }
    res.write(chunk({}, 'stop'));
    if (includeUsage) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }
}
