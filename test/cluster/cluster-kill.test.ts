/**
 * Three gateway processes on one PostgreSQL, each with its own data dir, port, node id and two
 * virtual lines, and a loopback webhook receiver that answers inbound texts with inline replies.
 * Any node's API sends on any node's line; every line's inbound texts reach the webhook once; and
 * `kill -9` of one node in the middle of 1,000 sends and 300 conversations loses nothing that
 * was acknowledged and doubles nothing: the killed node, started again, sends what waited on its
 * lines.
 *
 * What the virtual network of the killed process carried dies with it (it runs inside the
 * gateway process; a real network would not lose it): a text it had taken from a subscriber but
 * not yet handed to the gateway, and a part it had accepted from the gateway but not yet put in
 * the subscriber's inbox. The checks below allow exactly those, and no more.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { describeWithTool } from '../helpers/system-tool.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { NodeProcess, type VirtualLineSpec } from './node-process.ts';

const SENDS = 1000;
const CONVERSATIONS = 300;
const need = postgresUnavailable();

const LINES: Record<string, VirtualLineSpec[]> = {
  'node-a': [{ id: 'a-1', number: '+15550002101' }, { id: 'a-2', number: '+15550002102' }],
  'node-b': [{ id: 'b-1', number: '+15550002201' }, { id: 'b-2', number: '+15550002202' }],
  'node-c': [{ id: 'c-1', number: '+15550002301' }, { id: 'c-2', number: '+15550002302' }],
};
const ALL_LINES = Object.values(LINES).flat();
const phone = (prefix: string, n: number) => `${prefix}${String(n).padStart(2, '0')}`;

interface MessageView {
  id: string;
  numberId: string;
  direction: string;
  from: string;
  to: string;
  body: string;
  status: string;
  sentAt: string | null;
}

/** A 4xx answer: the client would not retry it, and the test fails. */
class Refused extends Error {}

describeWithTool('three gateway processes on one PostgreSQL, one killed with -9 (real processes)', need === undefined, need ?? '', () => {
  // The nodes' data dirs live across the tests (useTempDir removes its dirs after each test).
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-cluster-kill-'));
  let server: TestPostgres;
  let nodes: NodeProcess[] = [];
  let key = '';
  /** Phone number → number id. */
  const numberIds = new Map<string, string>();
  const receiver = new WebhookReceiver();

  const ownerOf = (lineNumber: string): NodeProcess => {
    const owner = nodes.find((n) => n.spec.lines.some((l) => l.number === lineNumber));
    if (!owner) throw new Error(`no node has ${lineNumber}`);
    return owner;
  };
  const numberId = (lineNumber: string): string => numberIds.get(lineNumber) ?? '';
  const api = (via: NodeProcess, path: string, init: RequestInit = {}) =>
    fetch(`${via.url}/api${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(30_000),
    });

  /** Every message of a number in one direction, through `via`'s API (all pages). */
  async function messages(via: NodeProcess, lineNumber: string, direction: 'inbound' | 'outbound'): Promise<MessageView[]> {
    const out: MessageView[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `direction=${direction}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await api(via, `/numbers/${numberId(lineNumber)}/messages?${query}`);
      if (!res.ok) throw new Error(`messages of ${lineNumber}: ${res.status} ${await res.text()}`);
      const page = (await res.json()) as { messages: MessageView[]; nextCursor: string | null };
      out.push(...page.messages);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /** Sends like a real client: one Idempotency-Key per message, retried on another node after a connection error, a 409 or a 5xx. */
  async function sendAsClient(idempotencyKey: string, lineNumber: string, to: string, body: string, start: number, through: readonly NodeProcess[]): Promise<{ messageId: string; retries: number }> {
    for (let attempt = 0; attempt < 600; attempt++) {
      const via = through[(start + attempt) % through.length] as NodeProcess;
      try {
        const res = await api(via, `/numbers/${numberId(lineNumber)}/send/sms`, { method: 'POST', headers: { 'idempotency-key': idempotencyKey }, body: JSON.stringify({ to, body }) });
        const text = await res.text();
        if (res.ok) return { messageId: (JSON.parse(text) as { messageId: string }).messageId, retries: attempt };
        if (res.status !== 409 && res.status < 500) throw new Refused(`send ${idempotencyKey} via ${via.spec.nodeId}: ${res.status} ${text}`);
      } catch (err) {
        if (err instanceof Refused) throw err;
        // A connection refused or reset, or no answer: the client cannot know whether it was taken.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`send ${idempotencyKey}: no node took it`);
  }

  beforeAll(async () => {
    server = await startPostgres();
    const databaseUrl = await server.createDatabase();
    nodes = await Promise.all(
      Object.entries(LINES).map(([nodeId, lines]) => {
        const nodeDir = join(dir, nodeId);
        mkdirSync(nodeDir);
        return NodeProcess.create({ dir: nodeDir, nodeId, databaseUrl, lines });
      }),
    );
    // Started together: the migrations run once, under the advisory lock.
    await Promise.all(nodes.map((n) => n.start()));
    const [a] = nodes as [NodeProcess];
    key = (await a.adminJson<{ key: string }>('/keys', { method: 'POST', body: JSON.stringify({ name: 'cluster-kill' }) })).key;
    for (const n of (await (await api(a, '/numbers')).json() as { numbers: { id: string; phoneNumber: string }[] }).numbers) numberIds.set(n.phoneNumber, n.id);
    expect([...numberIds.keys()].sort()).toEqual(ALL_LINES.map((l) => l.number).sort());

    // The agent answers "conv N" with an inline reply "re N"; everything else with 200.
    receiver.answer = (hook) => {
      const body = hook.json.event === 'message.inbound' ? String(hook.json.body) : '';
      return body.startsWith('conv ') ? { status: 200, body: { action: 'respond', reply: `re ${body.slice(5)}` } } : { status: 200, body: { action: 'ignore' } };
    };
    const hookUrl = await receiver.start();
    for (const line of ALL_LINES) await a.adminJson(`/numbers/${numberId(line.number)}/webhook`, { method: 'PUT', body: JSON.stringify({ url: hookUrl }) });
    // Every node's number cache has heard of the URLs over the bus.
    await until(
      async () => (await Promise.all(nodes.flatMap((n) => ALL_LINES.map(async (l) => (await n.adminJson<{ url: string | null }>(`/numbers/${numberId(l.number)}/webhook`)).url)))).every((u) => u === hookUrl),
      10_000,
      'every node to know the webhook URLs',
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.kill9()));
    await receiver.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends through every node go out on the line's own node", async () => {
    const to = '+15557100001';
    const sent: { via: string; line: string; messageId: string }[] = [];
    for (const via of nodes) {
      for (const line of ALL_LINES) {
        const res = await api(via, `/numbers/${numberId(line.number)}/send/sms`, { method: 'POST', body: JSON.stringify({ to, body: `route ${via.spec.nodeId} ${line.id}` }) });
        if (res.status !== 200) console.log('DEBUG', await res.text(), via.stderr().slice(-3000));
        expect(res.status).toBe(200);
        sent.push({ via: via.spec.nodeId, line: line.number, messageId: ((await res.json()) as { messageId: string }).messageId });
      }
    }
    const expected = (n: NodeProcess) => nodes.flatMap((via) => n.spec.lines.map((l) => `${l.number} route ${via.spec.nodeId} ${l.id}`)).sort();
    const received = async (n: NodeProcess) => (await n.inbox(to)).map((m) => `${m.from} ${m.body}`).sort();
    // Each node's subscriber saw exactly the texts sent on that node's lines, through whichever node's API.
    await until(async () => (await Promise.all(nodes.map(async (n) => JSON.stringify(await received(n)) === JSON.stringify(expected(n))))).every(Boolean), 20_000, 'every text in the inbox of its line');
    for (const n of nodes) expect(await received(n)).toEqual(expected(n));
    for (const s of sent) {
      const m = (await (await api(nodes[0] as NodeProcess, `/numbers/${numberId(s.line)}/messages/${s.messageId}`)).json()) as MessageView;
      expect(['sent', 'delivered']).toContain(m.status);
    }
  }, 60_000);

  it('an inbound text on every line reaches the webhook once', async () => {
    const from = '+15557200001';
    for (const line of ALL_LINES) expect((await ownerOf(line.number).simText(from, line.number, `hello ${line.id}`)).status).toBe(202);
    const hellos = () => receiver.events('message.inbound').filter((h) => String(h.json.body).startsWith('hello '));
    await receiver.waitFor(() => new Set(hellos().map((h) => h.json.body)).size === ALL_LINES.length, 20_000);
    // Once every delivery is recorded delivered in the store, no node will post any of them again.
    for (const line of ALL_LINES) {
      await until(
        async () => (await (nodes[0] as NodeProcess).adminJson<{ deliveries: unknown[] }>(`/numbers/${numberId(line.number)}/deliveries?status=pending&limit=1`)).deliveries.length === 0,
        20_000,
        `the deliveries of ${line.id} recorded`,
      );
    }
    expect(hellos().map((h) => `${String(h.json.to)} ${String(h.json.body)}`).sort()).toEqual(ALL_LINES.map((l) => `${l.number} hello ${l.id}`).sort());
  }, 60_000);

  it(`kill -9 of a node during ${SENDS} sends and ${CONVERSATIONS} inline-reply conversations: nothing acknowledged is lost or doubled, and the node sends its queue once back`, async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    // What the nodes logged (warnings and errors) explains a failure here.
    onTestFailed(async () => {
      for (const n of nodes) {
        const lines = await n.adminJson<{ lines: { id: string }[] }>('/modems').catch(() => undefined);
        const events = await Promise.all(n.spec.lines.map((l) => n.adminJson(`/modems/${l.id}/events`).catch(() => undefined)));
        console.log(`--- ${n.spec.nodeId} ---\n${JSON.stringify(lines)}\n${JSON.stringify(events)}\n${n.stdout().slice(-6000)}`);
      }
    });
    const began = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - began) / 1000).toFixed(1)} s`);
    let killing = false;
    /** When C's exit was seen: nothing C did is later than this. */
    let deadAt = '';
    let acked = 0;
    const ackWaiters: { n: number; resolve: () => void }[] = [];
    const ackedAtLeast = (n: number) => new Promise<void>((resolve) => (acked >= n ? resolve() : ackWaiters.push({ n, resolve })));
    const cLines = c.spec.lines.map((l) => l.number);
    let onBack: () => void = () => undefined;
    const cBack = new Promise<void>((resolve) => (onBack = resolve));
    let onKill: () => void = () => undefined;
    const killed = new Promise<void>((resolve) => (onKill = resolve));
    const onAck = () => {
      acked++;
      for (const w of ackWaiters.filter((x) => x.n <= acked)) {
        ackWaiters.splice(ackWaiters.indexOf(w), 1);
        w.resolve();
      }
      // C dies with -9 once a quarter of the sends are acknowledged, with sends and texts in flight.
      if (acked >= SENDS * 0.25 && !killing) {
        killing = true;
        void c.kill9().then(() => {
          deadAt = new Date().toISOString();
          onKill();
        });
      }
    };

    // The client: SENDS messages spread over every line, through every node's API, 12 at a time.
    const sendPhones = Array.from({ length: 20 }, (_, i) => phone('+155573000', i));
    const sends: { i: number; line: string; to: string; body: string; messageId: string; retries: number }[] = [];
    let nextSend = 0;
    const sender = async () => {
      for (let i = nextSend++; i < SENDS; i = nextSend++) {
        const line = (ALL_LINES[i % ALL_LINES.length] as VirtualLineSpec).number;
        const to = sendPhones[i % sendPhones.length] as string;
        const body = `send ${i}`;
        // The client knows no more than a real one: C fails to answer, and it tries the next node.
        const ack = await sendAsClient(`send-${i}`, line, to, body, i, [a, b, c]);
        sends.push({ i, line, to, body, ...ack });
        onAck();
      }
    };

    // The subscribers: CONVERSATIONS texts spread over every line, interleaved with the sends.
    // A text to a line of the dead node waits until its node is back (the network retries).
    const convPhones = Array.from({ length: 25 }, (_, i) => phone('+155574000', i));
    const texts: { k: number; line: string; from: string; beforeKill: boolean }[] = [];
    const converse = async (k: number) => {
      await ackedAtLeast(Math.floor((k * SENDS) / CONVERSATIONS));
      const line = (ALL_LINES[k % ALL_LINES.length] as VirtualLineSpec).number;
      const from = convPhones[k % convPhones.length] as string;
      for (;;) {
        // Posted before C's death was seen: C's network may have taken it and died with it.
        const beforeKill = deadAt === '';
        // While C is down its lines are off the network: the text waits until they are back.
        if (!beforeKill && cLines.includes(line)) await cBack;
        let res: Response;
        try {
          res = await ownerOf(line).simText(from, line, `conv ${k}`);
        } catch (err) {
          // Refused: the node is down, the text was not taken; the phone tries again. Cut off
          // mid-request: it may have been taken, and is not sent twice.
          if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED') {
            texts.push({ k, line, from, beforeKill: true });
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        if (res.status !== 202) throw new Error(`sim text ${k}: ${res.status} ${await res.text()}`);
        texts.push({ k, line, from, beforeKill });
        return;
      }
    };

    const conversations = Promise.all(Array.from({ length: CONVERSATIONS }, (_, k) => converse(k)));
    await Promise.all(Array.from({ length: 12 }, sender));
    await killed;
    phase('all sends acknowledged');
    expect(sends).toHaveLength(SENDS);

    // While C is down its lines' messages wait in the store, unsent.
    const waitingOnC = (await Promise.all(cLines.map((l) => messages(a, l, 'outbound')))).flat().filter((m) => m.status === 'queued' || m.status === 'sending');
    expect(waitingOnC.length).toBeGreaterThan(0);

    await c.start();
    onBack();
    phase('C back');
    await conversations;
    const resubmitted = Number(/^agentphone_sms_parts_resubmitted_after_restart_total\{[^}]*\} (\d+)$/m.exec(await (await fetch(`${c.url}/metrics`)).text())?.[1] ?? 0);

    // Settled: nothing left to send, and every stored "conv" posted to the webhook and answered.
    // Not waited for: the message.status events the killed node had claimed, which any node
    // retries once their lease (130 s, longer than any webhook timeout) has run out.
    const outboundAll = async () => (await Promise.all(ALL_LINES.map((l) => messages(a, l.number, 'outbound')))).flat();
    const inboundAll = async () => (await Promise.all(ALL_LINES.map((l) => messages(a, l.number, 'inbound')))).flat().filter((m) => m.body.startsWith('conv '));
    let unsettled = '';
    await until(
      async () => {
        const out = await outboundAll();
        const replies = new Set(out.map((m) => m.body));
        const posted = new Set(receiver.events('message.inbound').map((h) => h.json.message_id));
        const stored = new Set((await inboundAll()).map((m) => m.body));
        const waiting = [
          // A text C's network took before C died may have died with it; every other one is stored.
          ...texts.filter((t) => !(c.spec.lines.some((l) => l.number === t.line) && t.beforeKill) && !stored.has(`conv ${t.k}`)).map((t) => `conv ${t.k} to ${t.line} not stored`),
          ...out.filter((m) => !['sent', 'delivered', 'failed'].includes(m.status)).map((m) => `${m.id} ${m.body} ${m.status}`),
          ...(await inboundAll()).filter((m) => !posted.has(m.id) || !replies.has(`re ${m.body.slice(5)}`)).map((m) => `${m.id} ${m.body} ${posted.has(m.id) ? 'not answered' : 'not posted'}`),
        ];
        unsettled = waiting.join('\n');
        return waiting.length === 0;
      },
      // An inbound event the killed node had claimed is posted again once its lease runs out.
      200_000,
      'every send and reply to settle',
    ).catch(async (err: unknown) => {
      const deliveries = await Promise.all(ALL_LINES.map((l) => a.adminJson<{ deliveries: unknown[] }>(`/numbers/${numberId(l.number)}/deliveries?status=pending&limit=20`)));
      throw new Error(`${String(err)}; still waiting:\n${unsettled}\npending deliveries: ${JSON.stringify(deliveries)}\n${nodes.map((n) => `${n.spec.nodeId}: ${n.stdout().slice(-3000)}`).join('\n')}`);
    });
    phase('settled');

    const outbound = await outboundAll();
    const inbound = await inboundAll();
    const byId = new Map(outbound.map((m) => [m.id, m]));
    const bodies = (prefix: string) => outbound.filter((m) => m.body.startsWith(prefix)).map((m) => m.body);

    // Every acknowledged send is one message, sent: retries through other nodes did not double it.
    expect(new Set(sends.map((s) => s.messageId)).size).toBe(SENDS);
    for (const s of sends) expect({ i: s.i, body: byId.get(s.messageId)?.body, status: byId.get(s.messageId)?.status }).toEqual({ i: s.i, body: s.body, status: expect.stringMatching(/^(sent|delivered)$/) });
    expect(bodies('send ').sort()).toEqual(sends.map((s) => s.body).sort());
    expect(sends.some((s) => s.retries > 0)).toBe(true);
    // What waited on C's lines while it was down went out once it was back.
    for (const w of waitingOnC) expect(['sent', 'delivered']).toContain(byId.get(w.id)?.status);

    // Every text a live node's network took was stored once; the dead node's, once at most.
    const stored = inbound.map((m) => Number(m.body.slice(5)));
    expect(new Set(stored).size).toBe(stored.length);
    const lostWithC = texts.filter((t) => !stored.includes(t.k));
    expect(lostWithC.filter((t) => !(cLines.includes(t.line) && t.beforeKill))).toEqual([]);

    // Every stored text reached the webhook under one event id, and got exactly one reply, sent.
    const hooks = receiver.events('message.inbound');
    for (const m of inbound) {
      const posts = hooks.filter((h) => h.json.message_id === m.id);
      expect(posts.length).toBeGreaterThan(0);
      expect(new Set(posts.map((h) => h.headers['x-agentphone-delivery'])).size).toBe(1);
      const replies = outbound.filter((o) => o.body === `re ${m.body.slice(5)}`);
      expect(replies.map((r) => ({ to: r.to, from: r.from, status: r.status }))).toEqual([{ to: m.from, from: m.to, status: expect.stringMatching(/^(sent|delivered)$/) }]);
    }

    // What reached the subscribers' phones: on A's and B's lines every sent message exactly once.
    // On C's: a part C's network had taken but not yet carried when C died is lost with it (its
    // status stays 'sent', sent before C died), and a part whose AT+CMGS the kill interrupted is
    // sent again after the restart (counted by the resubmitted metric) and may arrive twice.
    const wanted = outbound.filter((m) => m.body.startsWith('send ') || m.body.startsWith('re '));
    const phones = [...new Set(wanted.map((m) => m.to))];
    const inboxes = new Map<NodeProcess, Map<string, number>>();
    for (const n of nodes) {
      const counts = new Map<string, number>();
      for (const p of phones) for (const got of await n.inbox(p)) counts.set(`${got.from}>${p} ${got.body}`, (counts.get(`${got.from}>${p} ${got.body}`) ?? 0) + 1);
      inboxes.set(n, counts);
    }
    let doubled = 0;
    const lost: MessageView[] = [];
    for (const m of wanted) {
      const owner = ownerOf(m.from);
      const count = inboxes.get(owner)?.get(`${m.from}>${m.to} ${m.body}`) ?? 0;
      if (owner !== c) expect({ body: m.body, line: m.from, count }).toEqual({ body: m.body, line: m.from, count: 1 });
      else if (count === 0) lost.push(m);
      else doubled += count - 1;
    }
    expect(lost.filter((m) => !(m.status === 'sent' && m.sentAt !== null && m.sentAt <= deadAt))).toEqual([]);
    expect(doubled).toBeLessThanOrEqual(resubmitted);

    // No webhook event was given up.
    for (const line of ALL_LINES) expect((await a.adminJson<{ deliveries: unknown[] }>(`/numbers/${numberId(line.number)}/deliveries?status=dead&limit=1`)).deliveries).toEqual([]);

    // C is back on its lines.
    expect(await c.holdsAll(c.spec.lines.map((l) => l.id))).toBe(true);
    console.log(
      `cluster-kill: ${SENDS} sends (${sends.filter((s) => s.retries > 0).length} retried), ${waitingOnC.length} waiting on C while down, ` +
        `${texts.length} texts (${stored.length} stored, ${lostWithC.length} lost with C's network: ${lostWithC.map((t) => t.k).join(' ')}), ${lost.length} parts lost with C's network, ` +
        `${doubled} doubled of ${resubmitted} resubmitted, webhook posts of inbound texts ${hooks.length}; ${phases.join(', ')}`,
    );
  }, 300_000);
});
