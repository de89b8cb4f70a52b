import { afterEach, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { openPostgresStore, OutboxRepository, UsageRepository, type Database, type SqlStore } from '../../src/store/index.ts';
import { WebhookDispatcher, type HttpPost, type WebhookDispatcherDeps } from '../../src/webhooks/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';
import { until } from '../helpers/wait.ts';

const NUMBER_ID = 'num_1';

describeOnEachDialect('webhook dispatcher and outbox', (open) => {
  const dispatchers: WebhookDispatcher[] = [];
  const closers: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function openStore(): Promise<TestStore> {
    const t = await open();
    closers.push(() => t.close());
    const at = new Date().toISOString();
    await t.store.db
      .insertInto('numbers')
      .values({ id: NUMBER_ID, phone_number: '+15550000001', line_id: 'l1', label: null, webhook_url: null, webhook_secret: 'whsec_x', created_at: at, updated_at: at })
      .execute();
    return t;
  }

  /** Another node on the same database (PostgreSQL), or the same store (SQLite has one process). */
  async function secondNode(t: TestStore): Promise<SqlStore<Database>> {
    if (!t.url) return t.store;
    const store = await openPostgresStore<Database>({ url: t.url });
    closers.push(() => store.close());
    return store;
  }

  function dispatcher(store: SqlStore<Database>, post: HttpPost, over: Partial<WebhookDispatcherDeps> = {}): WebhookDispatcher {
    const d = new WebhookDispatcher({
      store,
      outbox: new OutboxRepository(store.db),
      post,
      clock: systemClock,
      logger: silentLogger(),
      target: () => ({ url: 'http://agent.example/hook', secret: 'whsec_x', timeoutMs: 1000 }),
      onReply: async () => {},
      pollMs: 20,
      ...over,
    });
    dispatchers.push(d);
    return d;
  }

  function answering(text: string, bodies: string[]): HttpPost {
    return async (req) => {
      bodies.push((JSON.parse(req.body.toString('utf8')) as { body: string }).body);
      return { status: 200, contentType: 'application/json', retryAfterS: undefined, text };
    };
  }

  const add = (outbox: OutboxRepository, body: string, at: number) =>
    outbox.insert({ id: `evt_${body}`, numberId: NUMBER_ID, event: 'message.inbound', messageId: null, payload: JSON.stringify({ event: 'message.inbound', body }), now: at });

  it('holds while there is no URL (no attempt counted, nothing dead) and releases oldest first once there is one', async () => {
    const t = await openStore();
    const outbox = new OutboxRepository(t.store.db);
    const state = { url: null as string | null, bodies: [] as string[] };
    const d = dispatcher(t.store, answering('{"action":"ignore"}', state.bodies), { target: () => ({ url: state.url, secret: 'whsec_x', timeoutMs: 1000 }) });
    const now = Date.now();
    for (const [i, body] of ['a', 'b', 'c', 'd'].entries()) await add(outbox, body, now + i);
    await d.start();
    await until(async () => (await outbox.listForNumber(NUMBER_ID, 'held', 10)).length === 4, 5000, '4 held');
    expect(await outbox.listForNumber(NUMBER_ID, 'dead', 10)).toEqual([]);
    expect((await outbox.listForNumber(NUMBER_ID, 'held', 10)).every((e) => e.attempts === 0 && e.lastError === null)).toBe(true);
    state.url = 'http://agent.example/hook';
    d.releaseHeld(NUMBER_ID);
    d.releaseHeld(NUMBER_ID); // a second wake-up while draining sends nothing twice
    await until(async () => (await outbox.listForNumber(NUMBER_ID, 'delivered', 10)).length === 4, 5000, '4 delivered');
    expect(state.bodies).toEqual(['a', 'b', 'c', 'd']);
  });

  it('stops releasing when the URL is removed again; the rest stay held and go when it is back', async () => {
    const t = await openStore();
    const outbox = new OutboxRepository(t.store.db);
    const state = { url: null as string | null, bodies: [] as string[] };
    const post: HttpPost = async (req) => {
      state.bodies.push((JSON.parse(req.body.toString('utf8')) as { body: string }).body);
      if (state.bodies.length === 1) state.url = null;
      return { status: 200, contentType: 'application/json', retryAfterS: undefined, text: '{"action":"ignore"}' };
    };
    const d = dispatcher(t.store, post, { target: () => ({ url: state.url, secret: 'whsec_x', timeoutMs: 1000 }) });
    const now = Date.now();
    for (const [i, body] of ['a', 'b', 'c'].entries()) await add(outbox, body, now + i);
    await d.start();
    await until(async () => (await outbox.listForNumber(NUMBER_ID, 'held', 10)).length === 3, 5000, '3 held');
    state.url = 'http://agent.example/hook';
    d.releaseHeld(NUMBER_ID);
    await until(
      async () => (await outbox.listForNumber(NUMBER_ID, 'delivered', 10)).length === 1 && (await outbox.listForNumber(NUMBER_ID, 'held', 10)).length === 2,
      5000,
      'one sent, two held',
    );
    expect(state.bodies).toEqual(['a']);
    state.url = 'http://agent.example/hook';
    d.releaseHeld(NUMBER_ID);
    await until(async () => (await outbox.listForNumber(NUMBER_ID, 'delivered', 10)).length === 3, 5000, 'all delivered');
    expect(state.bodies).toEqual(['a', 'b', 'c']);
  });

  it('commits an inline reply with its event, rolls back only the reply when it is refused, and wakes after commit', async () => {
    const t = await openStore();
    const outbox = new OutboxRepository(t.store.db);
    const woken: string[] = [];
    const d = dispatcher(t.store, answering('{"action":"respond","reply":"hi"}', []), {
      onReply: async (event, reply, tx) => {
        // A write the reply makes (as the send path charges segments), then a refusal for one event.
        await new UsageRepository(tx).add(NUMBER_ID, '2026-11', `reply_${event.id}`, reply.reply.length);
        if (event.id === 'evt_refused') throw new Error('contact opted out');
        return () => woken.push(event.id);
      },
    });
    await add(outbox, 'sent', Date.now());
    await add(outbox, 'refused', Date.now());
    await d.start();
    await until(async () => (await outbox.listForNumber(NUMBER_ID, 'delivered', 10)).length === 2, 5000, 'both delivered');
    expect(await new UsageRepository(t.store.db).forNumber(NUMBER_ID, '2026-11')).toEqual({ reply_evt_sent: 2 });
    expect(woken).toEqual(['evt_sent']);
  });

  it('gives each due event to one of two dispatchers racing for it, once', async () => {
    const t = await openStore();
    const outbox = new OutboxRepository(t.store.db);
    const bodies: string[] = [];
    const now = Date.now();
    const names = Array.from({ length: 60 }, (_, i) => `m${i}`);
    for (const [i, body] of names.entries()) await add(outbox, body, now + i);
    const a = dispatcher(t.store, answering('{"action":"ignore"}', bodies), { concurrency: 4 });
    const b = dispatcher(await secondNode(t), answering('{"action":"ignore"}', bodies), { concurrency: 4 });
    await Promise.all([a.start(), b.start()]);
    await until(async () => (await outbox.listForNumber(NUMBER_ID, 'delivered', 100)).length === names.length, 10_000, 'all delivered');
    expect([...bodies].sort()).toEqual([...names].sort());
  });

  it("leases a claimed delivery for the numbers' longest webhook timeout plus a margin, so a dead node's is retried soon", async () => {
    const t = await openStore();
    const outbox = new OutboxRepository(t.store.db);
    await add(outbox, 'slow', Date.now());
    let posted!: () => void;
    const started = new Promise<void>((resolve) => (posted = resolve));
    // A post that never answers: the delivery stays claimed, as on a node that died mid-post.
    const hanging: HttpPost = () => {
      posted();
      return new Promise(() => undefined);
    };
    const before = Date.now();
    const d = dispatcher(t.store, hanging, { longestTimeoutMs: () => 3_000 });
    await d.start();
    await started;
    const row = await t.store.db.selectFrom('outbox').select(['lease_until']).where('id', '=', 'evt_slow').executeTakeFirstOrThrow();
    expect(row.lease_until).toBeGreaterThanOrEqual(before + 3_000 + 10_000);
    expect(row.lease_until).toBeLessThanOrEqual(Date.now() + 3_000 + 10_000);
  });
});
