/**
 * Gateways on one PostgreSQL: two real gateway nodes in this process, each driving its own
 * virtual line on real PTYs, share the store. Any node accepts a send; the node that holds the
 * line's lease sends it, woken over LISTEN/NOTIFY. A number changed through one node is seen by
 * the other (its number cache is told over the same bus), so an inbound text on the other node
 * reaches the new webhook URL, once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTool } from '../helpers/system-tool.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type Node = Awaited<ReturnType<typeof startTestGateway>>;

const LINE_A = { id: 'line-a', number: '+15550000011', dialect: 'quectel' };
const LINE_B = { id: 'line-b', number: '+15550000012', dialect: 'simcom' };
const need = postgresUnavailable();

describeWithTool('gateway nodes on one PostgreSQL', need === undefined, need ?? '', () => {
  const tempDir = useTempDir('agentphone-pg-gw-');
  let server: TestPostgres;
  let a: Node;
  let b: Node;
  const receiver = new WebhookReceiver();
  let hookUrl = '';

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    const node = (id: string, line: typeof LINE_A) =>
      startTestGateway(tempDir(), {
        store: { postgres: { url } },
        cluster: { nodeId: id, heartbeatMs: 200, leaseMs: 1000 },
        virtual: { lines: [line] },
      });
    // Started together: the migrations run once, under the advisory lock.
    [a, b] = await Promise.all([node('node-a', LINE_A), node('node-b', LINE_B)]);
    hookUrl = await receiver.start();
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await receiver.stop();
    await server?.stop();
  });

  const numberOf = async (gw: Node, phone: string): Promise<string> => {
    const n = (await gw.core.numbers.list()).find((r) => r.phoneNumber === phone);
    if (!n) throw new Error(`no number ${phone}`);
    return n.id;
  };

  it('shows both nodes and their lines from either node, on the postgres store', async () => {
    await until(async () => {
      const health = (await (await fetch(`${a.url}/healthz`)).json()) as { cluster: { store: string; nodes: { id: string; alive: boolean; lines: string[] }[] } };
      const nodes = health.cluster.nodes.map((n) => `${n.id}:${n.alive}:${n.lines.join(',')}`).sort();
      return health.cluster.store === 'postgres' && nodes.join(' ') === 'node-a:true:line-a node-b:true:line-b';
    }, 10_000);
    // Either node lists every number: the store is one.
    expect((await a.core.numbers.list()).map((n) => n.phoneNumber).sort()).toEqual([LINE_A.number, LINE_B.number]);
    expect((await b.core.numbers.list()).map((n) => n.phoneNumber).sort()).toEqual([LINE_A.number, LINE_B.number]);
  });

  it("sends through node A on node B's line: B sends it, and A's API sees it sent", async () => {
    const fromB = await numberOf(a, LINE_B.number);
    const to = '+15557770001';
    const res = await a.api(`/api/numbers/${fromB}/send/sms`, { method: 'POST', body: JSON.stringify({ to, body: 'across the cluster' }) });
    expect(res.status).toBe(200);
    const { messageId: id } = (await res.json()) as { messageId: string };
    const inbox = async (gw: Node) =>
      ((await (await fetch(`${gw.url}/admin/sim/inbox?phone=${encodeURIComponent(to)}`, { headers: { authorization: 'Bearer test-admin-token-0123456789' } })).json()) as { messages: { from: string; body: string }[] }).messages;
    await until(async () => (await inbox(b)).some((m) => m.body === 'across the cluster' && m.from === LINE_B.number), 15_000);
    // Node A drives no line of B's: nothing went out through its own virtual network.
    expect(await inbox(a)).toEqual([]);
    await until(async () => {
      const m = (await (await a.api(`/api/numbers/${fromB}/messages/${id}`)).json()) as { status: string };
      return m.status === 'sent' || m.status === 'delivered';
    }, 15_000);
  });

  it("routes an inbound text on node B to the webhook URL set through node A, once", async () => {
    const numberB = await numberOf(a, LINE_B.number);
    const set = await fetch(`${a.url}/admin/numbers/${numberB}/webhook`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ url: hookUrl }),
    });
    expect(set.status).toBe(200);
    // Node B's number cache learns of it over the bus.
    await until(() => b.core.numbersRepo.get(numberB)?.webhookUrl === hookUrl, 5_000);
    const text = await fetch(`${b.url}/admin/sim/text`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557770002', to: LINE_B.number, body: 'hello node b' }),
    });
    expect(text.status).toBe(202);
    await receiver.waitFor(() => receiver.events('message.inbound').some((e) => JSON.stringify(e.json).includes('hello node b')));
    // Both nodes' dispatchers poll the one outbox: still one delivery.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.events('message.inbound').filter((e) => JSON.stringify(e.json).includes('hello node b'))).toHaveLength(1);
  });
});
