import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const HEARTBEAT_MS = 15_000;

/** One server-sent event stream to one browser tab. */
export interface SseStream {
  send(event: string, data: unknown): void;
  /** Runs when the client goes away or the server closes. */
  onClose(fn: () => void): void;
}

/**
 * Opens server-sent event streams on hijacked replies and ends them all when the app closes
 * (an open stream would otherwise keep the server from shutting down).
 */
export class SseHub {
  readonly #open = new Set<() => void>();

  constructor(app: FastifyInstance) {
    app.addHook('preClose', async () => {
      for (const end of [...this.#open]) end();
    });
  }

  open(request: FastifyRequest, reply: FastifyReply): SseStream {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    res.write('retry: 3000\n\n');
    const closers: Array<() => void> = [];
    let closed = false;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      this.#open.delete(end);
      for (const fn of closers.splice(0)) fn();
      res.end();
    };
    this.#open.add(end);
    request.raw.on('close', end);
    res.on('close', end);
    return {
      send: (event, data) => {
        if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      onClose: (fn) => {
        if (closed) fn();
        else closers.push(fn);
      },
    };
  }
}

/**
 * Calls `poll` every `intervalMs` until the stream closes. A poll that reads the store is async:
 * a tick is skipped while the previous one still runs (a slow store must not pile reads up), and
 * a failed one goes to `onError` (the stream stays open: the next tick may do better).
 */
export function every(stream: SseStream, intervalMs: number, poll: () => void | Promise<void>, onError: (err: unknown) => void = () => undefined): void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    Promise.resolve()
      .then(poll)
      .catch(onError)
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  stream.onClose(() => clearInterval(timer));
}
