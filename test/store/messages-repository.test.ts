import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  DashboardRepository,
  IdempotencyRepository,
  MessagesRepository,
  openPostgresStore,
  OutboxRepository,
  type Database,
  type SqlStore,
} from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

/**
 * A second node's view of the same database. PostgreSQL: its own pool, as another process has.
 * SQLite: the same store. Two handles in one process cannot both hold transactions (the second
 * BEGIN IMMEDIATE would block the only thread until its busy timeout), and another process
 * writing the file waits on its lock, which is SQLite's own guarantee.
 */
async function secondNode(t: TestStore): Promise<{ store: SqlStore<Database>; close(): Promise<void> }> {
  if (t.url === undefined) return { store: t.store, close: async () => {} };
  const store = await openPostgresStore<Database>({ url: t.url });
  return { store, close: () => store.close() };
}

describeOnEachDialect('messages, outbox and idempotency repositories', (open) => {
  let t: TestStore;
  let messages: MessagesRepository;
  const A = 'num_a';
  const B = 'num_b';

  beforeEach(async () => {
    t = await open();
    messages = new MessagesRepository(t.store.db);
    const now = '2026-11-28T00:00:00.000Z';
    await t.store.db
      .insertInto('numbers')
      .values([A, B].map((id, i) => ({ id, phone_number: `+1555000000${i + 1}`, line_id: `l${i + 1}`, label: null, webhook_url: null, webhook_secret: 's', created_at: now, updated_at: now })))
      .execute();
  });
  afterEach(() => t.close());

  const outbound = (id: string, numberId: string, second: number, contact = '+15557654321', replyTo: string | null = null) =>
    messages.insert({
      id,
      numberId,
      direction: 'outbound',
      channel: 'sms',
      contact,
      body: `m ${id}`,
      media: [],
      status: 'queued',
      encoding: 'gsm7',
      segments: 1,
      replyTo,
      createdAt: new Date(Date.UTC(2026, 10, 28, 0, 0, second)).toISOString(),
    });

  it('stores a received message once per dedupe key, and allows one reply per event', async () => {
    const inbound = (id: string) =>
      messages.insertInbound({
        id,
        numberId: A,
        channel: 'sms',
        contact: '+15557654321',
        body: 'hi',
        media: [],
        encoding: 'gsm7',
        segments: 1,
        partial: false,
        missingParts: [],
        dedupeKey: 'same-pdu',
        data: new Uint8Array([1, 2, 3]),
        ports: { source: 1, destination: 2 },
        createdAt: '2026-11-28T00:00:00.000Z',
      });
    expect(await inbound('msg_1')).toBe(true);
    expect(await inbound('msg_2')).toBe(false);
    const stored = await messages.get('msg_1');
    expect(stored).toMatchObject({ direction: 'inbound', status: 'received', partial: false, missingParts: null, ports: { source: 1, destination: 2 } });
    expect([...stored!.data!]).toEqual([1, 2, 3]);
    await outbound('msg_3', A, 1);
    await outbound('msg_4', A, 2);
    await outbound('msg_5', A, 3, '+15557654321', 'evt_1');
    await expect(outbound('msg_6', A, 4, '+15557654321', 'evt_1')).rejects.toThrow(/unique/i);
    expect((await messages.getByReplyTo('evt_1'))?.id).toBe('msg_5');
  });

  it('keeps an undecodable PDU once per line', async () => {
    const p = { lineId: 'l1', pdu: '07FF', errorCode: 'X', errorOffset: 1, reason: 'bad', receivedAt: '2026-11-28T00:00:00.000Z' };
    expect(await messages.recordUndecodable(p)).toBe(true);
    expect(await messages.recordUndecodable(p)).toBe(false);
    expect(await messages.recordUndecodable({ ...p, lineId: 'l2' })).toBe(true);
  });

  it('tells listeners of each message written or changed, also through a repository on a transaction, until they unsubscribe', async () => {
    const heard: string[] = [];
    const off = messages.onChange((id) => heard.push(id));
    await outbound('msg_1', A, 1);
    await t.store.tx((tx) => messages.on(tx).setStatus('msg_1', { status: 'sent', at: '2026-11-28T00:00:02.000Z', sentAt: '2026-11-28T00:00:02.000Z' }));
    await messages.setStatus('msg_1', { status: 'delivered', at: '2026-11-28T00:00:03.000Z', sentAt: 'later', deliveredAt: '2026-11-28T00:00:03.000Z' });
    off();
    await outbound('msg_2', A, 3);
    expect(heard).toEqual(['msg_1', 'msg_1', 'msg_1']);
    // sent_at keeps its first value.
    expect(await messages.get('msg_1')).toMatchObject({ status: 'delivered', sentAt: '2026-11-28T00:00:02.000Z', deliveredAt: '2026-11-28T00:00:03.000Z' });
  });

  it('lists a number’s messages newest first with filters and the cursor', async () => {
    for (const sec of [1, 3, 5]) await outbound(`msg_a${sec}`, A, sec);
    await outbound('msg_a7', A, 7, '+15559990000');
    await outbound('msg_b2', B, 2);
    const ids = async (f: Partial<Parameters<MessagesRepository['list']>[1]>) => (await messages.list(A, { limit: 10, ...f })).map((m) => m.id);
    expect(await ids({})).toEqual(['msg_a7', 'msg_a5', 'msg_a3', 'msg_a1']);
    expect(await ids({ limit: 2 })).toEqual(['msg_a7', 'msg_a5']);
    expect(await ids({ contact: '+15557654321', before: { createdAt: new Date(Date.UTC(2026, 10, 28, 0, 0, 5)).toISOString(), id: 'msg_a5' } })).toEqual(['msg_a3', 'msg_a1']);
    expect(await ids({ since: new Date(Date.UTC(2026, 10, 28, 0, 0, 3)).toISOString(), until: new Date(Date.UTC(2026, 10, 28, 0, 0, 7)).toISOString() })).toEqual(['msg_a5', 'msg_a3']);
    expect(await ids({ direction: 'inbound' })).toEqual([]);
  });

  it('lists across numbers newest first (the dashboard), and pages with the cursor', async () => {
    for (const sec of [1, 3, 5]) await outbound(`msg_a${sec}`, A, sec);
    for (const sec of [2, 4, 6]) await outbound(`msg_b${sec}`, B, sec, '+15559990000');
    const dashboard = new DashboardRepository(t.store.db);
    expect(await dashboard.messageIds({ limit: 4 })).toEqual(['msg_b6', 'msg_a5', 'msg_b4', 'msg_a3']);
    const before = { createdAt: new Date(Date.UTC(2026, 10, 28, 0, 0, 3)).toISOString(), id: 'msg_a3' };
    expect(await dashboard.messageIds({ limit: 4, before })).toEqual(['msg_b2', 'msg_a1']);
  });

  it('hands out queued parts first come, first served, a retry when it falls due', async () => {
    for (const [i, id] of ['msg_1', 'msg_2', 'msg_3'].entries()) {
      await outbound(id, A, i);
      await messages.insertPart({ messageId: id, seq: 1, pdu: '00', tpduLength: 1, lineId: 'l1', queuedAt: 1000 + 2 * i });
    }
    expect((await messages.claimDueParts('l1', 5000, 1)).map((p) => p.messageId)).toEqual(['msg_1']);
    await messages.retryPart('msg_1', 1, 1003, 'TEMP', 'try again');
    // msg_1's retry is due between msg_2 and msg_3's enqueue times; not before it is due.
    expect((await messages.claimDueParts('l1', 1002, 5)).map((p) => p.messageId)).toEqual(['msg_2']);
    expect(await messages.nextPartDueAt(['l1'])).toBe(1003);
    expect(await messages.nextPartDueAt(['l2'])).toBeUndefined();
    const claimed = await messages.claimDueParts('l1', 5000, 5);
    expect(claimed.map((p) => [p.messageId, p.status, p.attempts])).toEqual([
      ['msg_1', 'sending', 2],
      ['msg_3', 'sending', 1],
    ]);
  });

  it('records a part through submission, sending and its report, and requeues what a restart interrupted', async () => {
    await outbound('msg_1', A, 1);
    await messages.insertParts([1, 2, 3].map((seq) => ({ messageId: 'msg_1', seq, pdu: `0${seq}`, tpduLength: 1, lineId: 'l1', queuedAt: 1000 })));
    expect(await messages.claimDueParts('l1', 1000, 3)).toHaveLength(3);
    await messages.markPartSubmitting('msg_1', 1);
    await messages.markPartSubmitting('msg_1', 2);
    await messages.markPartSent('msg_1', 2, 42, '2026-11-28T00:00:05.000Z');
    expect(await messages.awaitingReport('l1', 42)).toEqual([expect.objectContaining({ messageId: 'msg_1', seq: 2, mr: 42, contact: '+15557654321' })]);
    await messages.recordReport({ messageId: 'msg_1', seq: 2, status: 'delivered', raw: 0, at: '2026-11-28T00:00:06.000Z', code: null, message: null });
    expect(await messages.awaitingReport('l1', 42)).toEqual([]);
    // Part 1 was being submitted, part 3 only claimed, when the process stopped.
    expect(await messages.requeueInterrupted()).toEqual({ requeued: 1, resubmitted: 1 });
    const parts = await messages.parts('msg_1');
    expect(parts.map((p) => [p.seq, p.status, p.resubmittedAfterRestart])).toEqual([
      [1, 'queued', 1],
      [2, 'delivered', 0],
      [3, 'queued', 0],
    ]);
    await messages.deferPart('msg_1', 3, 9000);
    await messages.failPart('msg_1', 1, 'X', 'gone');
    expect((await messages.parts('msg_1')).map((p) => [p.status, p.attempts])).toEqual([
      ['failed', 1],
      ['delivered', 1],
      ['queued', 0],
    ]);
  });

  it("requeues on a cluster only the interrupted parts of the lines named (this node's), never another node's in flight", async () => {
    await outbound('msg_1', A, 1);
    await messages.insertParts([
      { messageId: 'msg_1', seq: 1, pdu: '01', tpduLength: 1, lineId: 'l1', queuedAt: 1000 },
      { messageId: 'msg_1', seq: 2, pdu: '02', tpduLength: 1, lineId: 'l2', queuedAt: 1000 },
    ]);
    await messages.claimDueParts('l1', 1000, 1);
    await messages.claimDueParts('l2', 1000, 1);
    expect(await messages.requeueInterrupted([])).toEqual({ requeued: 0, resubmitted: 0 });
    expect(await messages.requeueInterrupted(['l1'])).toEqual({ requeued: 1, resubmitted: 0 });
    expect((await messages.parts('msg_1')).map((p) => p.status)).toEqual(['queued', 'sending']);
  });

  it('never gives the same part to two nodes claiming at once', async () => {
    const other = await secondNode(t);
    try {
      const n = 60;
      for (let i = 0; i < n; i++) {
        const id = `msg_${String(i).padStart(3, '0')}`;
        await outbound(id, A, i);
        await messages.insertPart({ messageId: id, seq: 1, pdu: '00', tpduLength: 1, lineId: 'l1', queuedAt: 1000 + i });
      }
      const mine = new MessagesRepository(t.store.db);
      const theirs = new MessagesRepository(other.store.db);
      const claims: string[] = [];
      const claimer = async (repo: MessagesRepository, store: SqlStore<Database>) => {
        for (;;) {
          const parts = await store.tx((tx) => repo.on(tx).claimDueParts('l1', 10_000, 3));
          if (parts.length === 0) return;
          claims.push(...parts.map((p) => p.messageId));
        }
      };
      await Promise.all([claimer(mine, t.store), claimer(theirs, other.store), claimer(mine, t.store), claimer(theirs, other.store)]);
      expect(claims).toHaveLength(n);
      expect(new Set(claims).size).toBe(n);
    } finally {
      await other.close();
    }
  });

  it('outbox: leases due events once, holds and releases them, redelivers, and reports when the next falls due', async () => {
    const outbox = new OutboxRepository(t.store.db);
    for (const [i, id] of ['evt_1', 'evt_2', 'evt_3'].entries()) await outbox.insert({ id, numberId: A, event: 'message.inbound', messageId: null, payload: '{}', now: 1000 + i });
    expect(await outbox.nextDueAt()).toBe(1000);
    const first = await outbox.claimDue(5000, 30_000, 2);
    expect(first.map((e) => [e.id, e.attempts])).toEqual([
      ['evt_1', 1],
      ['evt_2', 1],
    ]);
    expect((await outbox.claimDue(5000, 30_000, 5)).map((e) => e.id)).toEqual(['evt_3']);
    expect(await outbox.claimDue(5000, 30_000, 5)).toEqual([]);
    expect(await outbox.nextDueAt()).toBe(35_000);
    await outbox.markDelivered('evt_1', 200, 6000, 'HTTP 200: ok');
    await outbox.scheduleRetry('evt_2', 500, 'boom', 7000);
    await outbox.markDead('evt_3', null, 'gave up');
    expect(await outbox.get('evt_1')).toMatchObject({ status: 'delivered', lastStatus: 200, lastAnswer: 'HTTP 200: ok', deliveredAt: new Date(6000).toISOString() });
    expect(await outbox.nextDueAt()).toBe(7000);
    expect(await outbox.redeliver('evt_3', 8000)).toBe(true);
    expect(await outbox.redeliver('evt_missing', 8000)).toBe(false);
    await outbox.hold('evt_2');
    expect(await outbox.heldNumberIds()).toEqual([A]);
    expect((await outbox.claimHeld(A, 9000, 1000))?.id).toBe('evt_2');
    expect(await outbox.claimHeld(A, 9000, 1000)).toBeUndefined();
    expect(await outbox.releaseLeases()).toBe(1);
    expect((await outbox.listForNumber(A, 'pending', 10)).map((e) => e.id).sort()).toEqual(['evt_2', 'evt_3']);
    expect((await outbox.listForNumber(A, null, 1)).length).toBe(1);
  });

  it('outbox: two nodes claiming at once never lease the same event, due or held', async () => {
    const other = await secondNode(t);
    try {
      const mine = new OutboxRepository(t.store.db);
      const theirs = new OutboxRepository(other.store.db);
      const n = 60;
      for (let i = 0; i < n; i++) await mine.insert({ id: `evt_${String(i).padStart(3, '0')}`, numberId: A, event: 'e', messageId: null, payload: '{}', now: i });
      const claims: string[] = [];
      const claimer = async (repo: OutboxRepository) => {
        for (;;) {
          const events = await repo.claimDue(10_000, 60_000, 4);
          if (events.length === 0) return;
          claims.push(...events.map((e) => e.id));
        }
      };
      await Promise.all([claimer(mine), claimer(theirs), claimer(mine), claimer(theirs)]);
      expect(claims).toHaveLength(n);
      expect(new Set(claims).size).toBe(n);

      for (let i = 0; i < 20; i++) await mine.hold(`evt_${String(i).padStart(3, '0')}`);
      const held: string[] = [];
      const heldClaimer = async (repo: OutboxRepository) => {
        for (let misses = 0; misses < 3; ) {
          const e = await repo.claimHeld(A, 10_000, 60_000);
          if (e) held.push(e.id);
          else misses++;
        }
      };
      await Promise.all([heldClaimer(mine), heldClaimer(theirs), heldClaimer(mine), heldClaimer(theirs)]);
      expect(held).toHaveLength(20);
      expect(new Set(held).size).toBe(20);
    } finally {
      await other.close();
    }
  });

  it('idempotency: remembers, replaces only an expired record when asked to, and of two racing writers records one', async () => {
    const idem = new IdempotencyRepository(t.store.db);
    const rec = (messageId: string, createdAt: number) => ({ apiKeyId: 'k', numberId: A, key: 'x', requestHash: 'h', messageId, response: `{"m":"${messageId}"}`, createdAt });
    expect(await idem.put(rec('msg_1', 1000))).toBe(true);
    expect(await idem.get('k', A, 'x')).toEqual({ requestHash: 'h', messageId: 'msg_1', response: '{"m":"msg_1"}', createdAt: 1000 });
    expect(await idem.put(rec('msg_2', 2000), 500)).toBe(false);
    expect((await idem.get('k', A, 'x'))?.messageId).toBe('msg_1');
    expect(await idem.put(rec('msg_3', 3000), 1500)).toBe(true);
    expect((await idem.get('k', A, 'x'))?.messageId).toBe('msg_3');
    expect(await idem.pruneOlderThan(3000)).toBe(0);
    expect(await idem.pruneOlderThan(3001)).toBe(1);

    const other = await secondNode(t);
    try {
      for (let round = 0; round < 10; round++) {
        const key = `race-${round}`;
        const put = (store: SqlStore<Database>, id: string) => store.tx((tx) => new IdempotencyRepository(tx).put({ ...rec(id, 5000), key }, 4000));
        const won = await Promise.all([put(t.store, 'mine'), put(other.store, 'theirs')]);
        expect(won.filter(Boolean)).toHaveLength(1);
      }
    } finally {
      await other.close();
    }
  });
});
