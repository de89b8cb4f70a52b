import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { metricsText } from '../../helpers/metrics.ts';

/** A transcription request as the engine parsed it off the wire. */
export interface SeenTranscription {
  fields: Record<string, string[]>;
  filename: string;
  fileBytes: number;
}

/**
 * A loopback engine speaking the OpenAI wire format of vLLM / speaches / faster-whisper-server:
 * GET /v1/models, POST /v1/audio/transcriptions (multipart → {text} or verbose_json) and
 * POST /v1/completions (SSE text_completion chunks, as vLLM streams an Orpheus LM). `dies`
 * makes it read part of the request and then destroy the socket without a byte of answer.
 */
export class FakeEngine {
  readonly transcriptions: SeenTranscription[] = [];
  readonly completions: Array<Record<string, unknown>> = [];
  /** Requests that reached the engine (the dying ones included). */
  posts = 0;
  healthy = true;
  dies = false;
  /** Awaited before answering a transcription (lets a test hold requests in flight). */
  hold: Promise<void> | undefined;
  /** Seconds the verbose_json answer says; undefined: answer plain {text} (no duration). */
  durationS: number | undefined = 7.5;
  /** Text streamed back for /v1/completions, one chunk each. */
  completionPieces: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(readonly name: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  get label(): string {
    return `127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/v1/models') {
      if (!this.healthy) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"detail":"loading"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: this.name, object: 'model' }] }));
      return;
    }
    this.posts++;
    if (this.dies) {
      // Take the first chunk of the upload, then go away mid-request.
      req.once('data', () => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (req.url === '/v1/audio/transcriptions') return this.transcribe(req, body, res);
    if (req.url === '/v1/completions') return this.complete(body, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
  }

  private async transcribe(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    // The multipart body parsed by undici, as a real engine's form parser would.
    const form = await new Request('http://engine/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body }).formData();
    const fields: Record<string, string[]> = {};
    let filename = '';
    let fileBytes = 0;
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') (fields[key] ??= []).push(value);
      else {
        filename = value.name;
        fileBytes = value.size;
      }
    }
    this.transcriptions.push({ fields, filename, fileBytes });
    await this.hold;
    const text = `hello from ${this.name}`;
    if (this.durationS === undefined || fields.response_format?.[0] !== 'verbose_json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text }));
      return;
    }
    const d = this.durationS;
    const words = fields['timestamp_granularities[]']?.includes('word') ? [{ word: 'hello', start: 0, end: 0.5 }, { word: 'from', start: 0.5, end: 1 }] : undefined;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        task: 'transcribe',
        language: 'english',
        duration: d,
        text,
        segments: [{ id: 0, seek: 0, start: 0, end: d, text: ` ${text}`, tokens: [50364], temperature: 0, avg_logprob: -0.2, compression_ratio: 1.1, no_speech_prob: 0.01 }],
        ...(words && { words }),
      }),
    );
  }

  private complete(body: Buffer, res: ServerResponse): void {
    this.completions.push(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const text of this.completionPieces) {
      res.write(`data: ${JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1_700_000_000, model: this.name, choices: [{ index: 0, text, logprobs: null, finish_reason: null }] })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }
}

/** The sum of a Prometheus series' samples whose line matches. */
export async function metric(baseUrl: string, pattern: RegExp): Promise<number> {
  const text = await metricsText(baseUrl);
  let total = 0;
  for (const line of text.split('\n')) if (pattern.test(line)) total += Number(line.split(' ').pop());
  return total;
}
