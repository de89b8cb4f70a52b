import { connect } from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { closeApp, type App } from '../../src/api/index.ts';

describe('closeApp', () => {
  it('lets a request in flight finish, then cuts a connection that would hold shutdown open', async () => {
    const app = Fastify();
    let arrived!: () => void;
    const inHandler = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/slow', async () => {
      arrived();
      await new Promise((resolve) => setTimeout(resolve, 150));
      return { done: true };
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    // A client that sent half a request and went quiet: plain close() waits out headersTimeout (60 s).
    const stalled = connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise<void>((resolve) => stalled.on('connect', resolve));
    stalled.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
    stalled.on('error', () => undefined);
    const inFlight = fetch(`${url}/slow`);
    // In flight = the handler runs (a fixed sleep here let a loaded machine close first: 503).
    await inHandler;
    const started = performance.now();
    await closeApp(app as unknown as App, 500);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await (await inFlight).json()).toEqual({ done: true });
    stalled.destroy();
  });
});
