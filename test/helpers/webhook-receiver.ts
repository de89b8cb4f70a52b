import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  json: Record<string, unknown>;
}

export type Answer = { status: number; body?: unknown; delayMs?: number };

/** A real HTTP server on loopback that records webhooks and answers as told. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (hook: ReceivedWebhook) => Answer = () => ({ status: 200, body: { action: 'ignore' } });
  private server: Server | undefined;
  private waiters: Array<{ predicate: () => boolean; resolve: () => void }> = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const hook = { headers: req.headers, raw, json: JSON.parse(raw.toString('utf8')) as Record<string, unknown> };
        this.received.push(hook);
        const answer = this.answer(hook);
        const send = () => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
          this.check();
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Resolves once `predicate` holds (checked after every request). */
  waitFor(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`webhook receiver: condition not met; got ${this.received.length} hooks`)), timeoutMs);
      this.waiters.push({ predicate, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  events(name: string): ReceivedWebhook[] {
    return this.received.filter((h) => h.json.event === name);
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => (w.predicate() ? (w.resolve(), false) : true));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
