import { describe, expect, it } from 'vitest';
import { readBoundedBody } from '../../src/net/index.ts';

/** A body that hands out the chunks one read at a time and records whether it was cancelled. */
function body(chunks: string[], endless = false) {
  const state = { cancelled: false, reads: 0 };
  const enc = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[state.reads % chunks.length]!;
      state.reads += 1;
      controller.enqueue(enc.encode(chunk));
      if (!endless && state.reads === chunks.length) controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe('readBoundedBody', () => {
  it('reads a body within the cap whole', async () => {
    const { stream, state } = body(['hello ', 'world']);
    expect(await readBoundedBody(stream, 11)).toEqual({ text: 'hello world', over: false });
    expect(state.cancelled).toBe(false);
  });

  it('keeps the first limit bytes of a longer body and cancels the rest', async () => {
    const { stream, state } = body(['abcd', 'efgh', 'ijkl']);
    expect(await readBoundedBody(stream, 6)).toEqual({ text: 'abcdef', over: true });
    expect(state.cancelled).toBe(true);
  });

  it('stops an endless body at the cap', async () => {
    const { stream, state } = body(['x'.repeat(1000)], true);
    expect(await readBoundedBody(stream, 4096)).toEqual({ text: 'x'.repeat(4096), over: true });
    expect(state.cancelled).toBe(true);
    expect(state.reads).toBeLessThan(10);
  });

  it('reads no body as empty', async () => {
    expect(await readBoundedBody(null, 10)).toEqual({ text: '', over: false });
  });
});
