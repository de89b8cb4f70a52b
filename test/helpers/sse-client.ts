/** What a browser's EventSource would hand the page: each event's name and parsed data, in order. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * A server-sent event stream held open like a browser tab holds it, collecting every event so a
 * test can wait for the one it expects while later ones keep arriving.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly #abort = new AbortController();
  #ended: Error | undefined;

  private constructor() {}

  /** Connects; resolves once the server answered with an event stream. */
  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: client.#abort.signal });
    if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      throw new Error(`${url} answered ${res.status} ${res.headers.get('content-type')}`);
    }
    void client.#read(res.body as ReadableStream<Uint8Array>);
    return client;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) this.events.push({ event, data: JSON.parse(data) as unknown });
        }
      }
    } catch (err) {
      this.#ended = err instanceof Error ? err : new Error(String(err));
    }
  }

  /** The first event (already received or yet to come) that `want` accepts. */
  async waitFor<T>(want: (event: string, data: T) => boolean, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => want(e.event, e.data as T));
      if (hit) return hit.data as T;
      if (this.#ended && !this.#abort.signal.aborted) throw this.#ended;
      if (Date.now() > deadline) throw new Error(`no matching event in ${timeoutMs} ms; got ${this.events.map((e) => e.event).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.#abort.abort();
  }
}
