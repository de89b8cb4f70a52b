/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream format): bytes in as they
 * arrive, complete events out. Only `data` matters for the OpenAI protocol; `event`, `id` and
 * comments are kept or skipped as the format says.
 */
export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder();
  private pending = '';
  private data: string[] = [];
  private event = '';

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: Uint8Array): SseEvent[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const nl = this.nextLineEnd(start);
      if (nl === -1) break;
      const line = this.pending.slice(start, nl);
      start = nl + (this.pending[nl] === '\r' && this.pending[nl + 1] === '\n' ? 2 : 1);
      const done = this.line(line);
      if (done) events.push(done);
    }
    this.pending = this.pending.slice(start);
    return events;
  }

  /** Whatever a stream that ended without a final blank line still held. */
  end(): SseEvent[] {
    const tail = this.pending + this.decoder.decode();
    this.pending = '';
    const events: SseEvent[] = [];
    if (tail.length > 0) {
      const done = this.line(tail);
      if (done) events.push(done);
    }
    const last = this.line('');
    if (last) events.push(last);
    return events;
  }

  private nextLineEnd(from: number): number {
    for (let i = from; i < this.pending.length; i++) {
      const c = this.pending.charCodeAt(i);
      if (c === 10) return i;
      // A lone CR ends a line too, but only once we know no LF follows it.
      if (c === 13) return i + 1 < this.pending.length ? i : -1;
    }
    return -1;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const out = { event: this.event || 'message', data: this.data.join('\n') };
      this.data = [];
      this.event = '';
      return out;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return undefined;
  }
}

/** One `data:` event as written on the wire. */
export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}
