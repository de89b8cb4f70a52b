import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { call, connect, httpTransport, initialize, initializeBody, suiteDir } from './mcp-client.ts';

/** Bounds on what an MCP client can hold: body size, wait length, sessions. */
describe('/mcp bounds', () => {
  const data = suiteDir();
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  /** The gateway's clock runs this far ahead of the wall clock (to age sessions without waiting). */
  let aheadMs = 0;

  beforeAll(async () => {
    const clock = { now: () => Date.now() + aheadMs };
    gw = await startTestGateway(data.dir, { mcp: { maxSessions: 2, maxWaitSeconds: 1, bodyLimitBytes: 4096, sessionIdleMinutes: 30 } }, undefined, { clock });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    data.remove();
  });

  const sessionOf = async (res: Response) => {
    await res.text();
    expect(res.status).toBe(200);
    return res.headers.get('mcp-session-id') as string;
  };
  const listTools = (sessionId: string) =>
    fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });

  it('refuses a request body over mcp.bodyLimitBytes with 413 in the API error shape', async () => {
    const body = { ...initializeBody(), padding: 'x'.repeat(5000) };
    const res = await initialize(gw.url, gw.key, body);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'Payload Too Large', message: 'Request body is larger than the server accepts' });
  });

  it('cuts a wait_for_reply timeout to mcp.maxWaitSeconds and answers timed_out', async () => {
    const agent = await connect(httpTransport(gw.url, gw.key));
    try {
      // An hour asked for; the cap (1 s here) ends it, so this test finishes.
      const res = await call(agent, 'wait_for_reply', { number_id: gw.numberA, contact: '+15557772001', timeout_seconds: 3600 });
      expect(res).toMatchObject({ isError: false, json: { timed_out: true, reply: null } });
    } finally {
      await agent.close();
    }
  });

  it('keeps at most mcp.maxSessions: the least recently used idle one gives way, busy ones answer 503', async () => {
    const first = await sessionOf(await initialize(gw.url, gw.key));
    const second = await sessionOf(await initialize(gw.url, gw.key));
    expect((await listTools(second)).status).toBe(200);
    // A third session evicts the first (idle, used longest ago); its id is then unknown.
    const third = await sessionOf(await initialize(gw.url, gw.key));
    expect((await listTools(first)).status).toBe(404);
    expect((await listTools(second)).status).toBe(200);

    // Both open sessions busy (their clients hold the notification stream): a new one is refused.
    const streams = [second, third].map((id) => {
      const abort = new AbortController();
      const res = fetch(`${gw.url}/mcp`, { headers: { authorization: `Bearer ${gw.key}`, accept: 'text/event-stream', 'mcp-session-id': id }, signal: abort.signal });
      return { abort, res };
    });
    for (const s of streams) expect((await s.res).status).toBe(200);
    const refused = await initialize(gw.url, gw.key);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { message: string }).message).toMatch(/Too many MCP sessions/);

    // One client goes away: its session is idle again and gives way.
    streams[0]?.abort.abort();
    const fourth = await until(async () => {
      const res = await initialize(gw.url, gw.key);
      return res.status === 200 ? res : (await res.text(), undefined);
    }, 15_000, 'a session slot');
    await sessionOf(fourth);
    expect((await listTools(second)).status).toBe(404);
    streams[1]?.abort.abort();
  });

  it('answers a session only to the key that opened it', async () => {
    const other = (await gw.core.apiKeys.create({ name: 'other' })).key;
    const mine = await sessionOf(await initialize(gw.url, gw.key));
    const res = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}`, accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-session-id': mine },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('closes a session idle for mcp.sessionIdleMinutes: its id answers 404 and a new initialize works', async () => {
    const id = await sessionOf(await initialize(gw.url, gw.key));
    expect((await listTools(id)).status).toBe(200);
    aheadMs += 29 * 60_000;
    expect((await listTools(id)).status).toBe(200);
    aheadMs += 31 * 60_000;
    expect((await listTools(id)).status).toBe(404);
    await sessionOf(await initialize(gw.url, gw.key));
  });

  it('holds no session slot for an initialize the transport refused', async () => {
    for (let i = 0; i < 2; i++) {
      const refused = await fetch(`${gw.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.key}`, accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify(initializeBody()),
      });
      expect(refused.status).toBe(406);
      expect(refused.headers.get('mcp-session-id')).toBeNull();
      await refused.text();
    }
    await sessionOf(await initialize(gw.url, gw.key));
  });
});
