/**
 * Two real gateway nodes on one real PostgreSQL (as test/cluster/gateway-postgres.test.ts):
 * - a browser-like client (the dashboard's session cookie, an open event stream) on node B sees
 *   a message sent through node A's API, then its status changes as node A's line sends it;
 *   when node B's bus connection is cut (notifications lost), the stream says 'resync';
 * - node B's dashboard stream shows both nodes and their lines;
 * - a number written to the database by another node without a bus hint is found by node B's API.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, connect, httpTransport } from '../mcp/mcp-client.ts';
import { postgresUnavailable } from '../helpers/postgres.ts';
import { usePostgresNodes, type TestNode } from '../helpers/postgres-nodes.ts';
import { SseClient } from '../helpers/sse-client.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type Node = TestNode;

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const LINE_A = { id: 'line-a', number: '+15550000031', dialect: 'quectel' };
const LINE_B = { id: 'line-b', number: '+15550000032', dialect: 'simcom' };
const need = postgresUnavailable();

interface MessageEvent {
  id: string;
  status: string;
  body: string;
}

describeWithTool('live views and numbers across gateway nodes on one PostgreSQL', need === undefined, need ?? '', () => {
  const cluster = usePostgresNodes(
    [
      { id: 'node-a', line: LINE_A },
      { id: 'node-b', line: LINE_B },
    ],
    { dashboard: { liveIntervalMs: 100 } },
  );
  const streams: SseClient[] = [];
  let a: Node;
  let b: Node;
  beforeAll(() => {
    [a, b] = [cluster.node('node-a'), cluster.node('node-b')];
  });
  afterAll(() => {
    for (const s of streams) s.close();
  });

  /** The dashboard in a browser: logged in with the admin token, then a session cookie. */
  async function dashboardStream(gw: Node, path: string): Promise<SseClient> {
    const login = await fetch(`${gw.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') as string).split(';')[0] as string;
    const stream = await SseClient.open(`${gw.url}${path}`, { cookie });
    streams.push(stream);
    await stream.waitFor((event) => event === 'ready' || event === 'lines');
    return stream;
  }

  const numberOf = async (gw: Node, phone: string): Promise<string> => {
    const n = (await gw.core.numbers.list()).find((r) => r.phoneNumber === phone);
    if (!n) throw new Error(`no number ${phone}`);
    return n.id;
  };

  /** A number row another node wrote with its bus hint lost: straight into the table, no node's cache told. */
  async function writtenWithoutHint(id: string, phone: string, webhookUrl: string | null = null): Promise<void> {
    const now = new Date().toISOString();
    await a.core.store.db
      .insertInto('numbers')
      .values({ id, phone_number: phone, line_id: null, webhook_url: webhookUrl, webhook_secret: `whsec_${id}`, status: 'inactive', created_at: now, updated_at: now })
      .execute();
    expect(b.core.numbersRepo.get(id)).toBeUndefined();
  }

  it("shows on node B's stream a message sent through node A, and its status changes", async () => {
    const stream = await dashboardStream(b, '/admin/messages/stream');
    const onA = await dashboardStream(a, '/admin/messages/stream');
    const fromA = await numberOf(a, LINE_A.number);
    const res = await a.api(`/api/numbers/${fromA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: '+15557770031', body: 'seen on node b' }) });
    expect(res.status).toBe(200);
    const { messageId } = (await res.json()) as { messageId: string };
    // Node A drives line-a: the message is stored, sent and reported there, never on node B.
    const first = await stream.waitFor<MessageEvent>((event, m) => event === 'message' && m.id === messageId);
    expect(first.body).toBe('seen on node b');
    await stream.waitFor<MessageEvent>((event, m) => event === 'message' && m.id === messageId && (m.status === 'sent' || m.status === 'delivered'));
    // Node A's own dashboard hears it too (its own change, delivered locally).
    await onA.waitFor<MessageEvent>((event, m) => event === 'message' && m.id === messageId && (m.status === 'sent' || m.status === 'delivered'));
  });

  it("tells node B's stream to read again ('resync') when its bus connection is lost", async () => {
    const stream = await dashboardStream(b, '/admin/messages/stream');
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', ['agentphone node-b/listen']);
      expect(rows).toEqual([{ ok: true }]);
    } finally {
      await admin.end();
    }
    await stream.waitFor((event) => event === 'resync');
    // Reconnected: changes from node A reach it again.
    const fromA = await numberOf(a, LINE_A.number);
    const res = await a.api(`/api/numbers/${fromA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: '+15557770032', body: 'after the resync' }) });
    const { messageId } = (await res.json()) as { messageId: string };
    await stream.waitFor<MessageEvent>((event, m) => event === 'message' && m.id === messageId);
  });

  it("shows both nodes and their lines on node B's dashboard stream", async () => {
    const stream = await dashboardStream(b, '/admin/modems/stream');
    await stream.waitFor<{ nodes: { id: string; alive: boolean; lines: string[] }[] }>(
      (event, view) => event === 'cluster' && view.nodes.map((n) => `${n.id}:${n.alive}:${n.lines.join(',')}`).sort().join(' ') === 'node-a:true:line-a node-b:true:line-b',
    );
  });

  it('finds through node B a number another node wrote without a bus hint; an id that does not exist is still 404', async () => {
    await writtenWithoutHint('num_withouthint', '+15550000039');
    const res = await b.api('/api/numbers/num_withouthint');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'num_withouthint', phoneNumber: '+15550000039', status: 'inactive' });
    const admin = await fetch(`${b.url}/admin/numbers/num_withouthint/webhook`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.status).toBe(200);
    const missing = await b.api('/api/numbers/num_doesnotexist');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not Found', message: 'Number num_doesnotexist not found' });
  });

  it("answers an MCP tool on node B for a number written elsewhere without a bus hint", async () => {
    await writtenWithoutHint('num_mcpwithouthint', '+15550000037');
    const agent = await connect(httpTransport(b.url, b.key));
    try {
      const usage = await call<{ numberId: string }>(agent, 'get_usage', { number_id: 'num_mcpwithouthint' });
      expect(usage.isError).toBe(false);
      expect(usage.json.numberId).toBe('num_mcpwithouthint');
    } finally {
      await agent.close();
    }
  });

  it("delivers a webhook event of such a number from node B instead of holding it for want of a URL", async () => {
    const receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    try {
      await writtenWithoutHint('num_hookwithouthint', '+15550000038', hookUrl);
      // Only node B's dispatcher runs, so it is the one that finds the number.
      await a.core.webhooks.stop();
      await b.core.outbox.insert({ id: 'evt_withouthint', numberId: 'num_hookwithouthint', event: 'message.inbound', messageId: null, payload: '{"event":"message.inbound","from":"+15557770039"}', now: Date.now() });
      b.core.webhooks.notify();
      await receiver.waitFor(() => receiver.events('message.inbound').some((e) => JSON.stringify(e.json).includes('+15557770039')));
    } finally {
      await receiver.stop();
    }
  });
});
