import { afterEach, beforeEach, expect, it } from 'vitest';
import { CallsRepository, ConversationsRepository, DashboardRepository } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const A = 'num_a';
const B = 'num_b';
const ALICE = '+15551110001';
const BOB = '+15551110002';
/** An ISO time on 2026-01-10 (or day `d` of January), minute `m`. */
const at = (m: number, d = 10) => new Date(Date.UTC(2026, 0, d, 12, m)).toISOString();

describeOnEachDialect('conversations and dashboard read models', (open) => {
  let t: TestStore;
  let conversations: ConversationsRepository;
  let dashboard: DashboardRepository;
  let seq = 0;

  async function message(numberId: string, contact: string, direction: 'inbound' | 'outbound', createdAt: string, body = 'hi', segments = 1): Promise<string> {
    const id = `msg_${String(++seq).padStart(4, '0')}`;
    await t.store.db
      .insertInto('messages')
      .values({ id, number_id: numberId, direction, channel: 'sms', contact, body, status: direction === 'inbound' ? 'received' : 'sent', segments, created_at: createdAt, updated_at: createdAt })
      .execute();
    return id;
  }

  beforeEach(async () => {
    t = await open();
    seq = 0;
    for (const [id, phone] of [[A, '+15550000001'], [B, '+15550000002']]) {
      await t.store.db.insertInto('numbers').values({ id: id!, phone_number: phone!, webhook_secret: 's', created_at: 'now', updated_at: 'now' }).execute();
    }
    conversations = new ConversationsRepository(t.store.db);
    dashboard = new DashboardRepository(t.store.db);
  });
  afterEach(() => t.close());

  it('lists conversations newest first with trigger-kept unread counts, pages by keyset, and marks read', async () => {
    await message(A, ALICE, 'inbound', at(1));
    await message(A, BOB, 'inbound', at(2));
    const last = await message(A, ALICE, 'inbound', at(3));
    await message(A, '+15551110003', 'outbound', at(4));
    const list = await conversations.list(A, undefined, 10);
    expect(list.map((c) => [c.contact, c.unreadCount])).toEqual([
      ['+15551110003', 0],
      [ALICE, 2],
      [BOB, 1],
    ]);
    const page2 = await conversations.list(A, { at: list[0]!.lastActivity, key: list[0]!.contact }, 1);
    expect(page2.map((c) => c.contact)).toEqual([ALICE]);
    expect(await conversations.lastMessageId(A, ALICE)).toBe(last);
    // A read mark never goes behind the last activity.
    expect(await conversations.markRead(A, ALICE, at(0))).toBe(true);
    expect(await conversations.get(A, ALICE)).toMatchObject({ unreadCount: 0, readAt: at(3) });
    expect(await conversations.markRead(A, ALICE, at(30))).toBe(true);
    expect((await conversations.get(A, ALICE))?.readAt).toBe(at(30));
    expect(await conversations.markRead(A, '+19999999999', at(30))).toBe(false);
    expect(await conversations.get(B, ALICE)).toBeUndefined();
  });

  it("reads a thread's messages and calls newest first, after a cursor", async () => {
    const m1 = await message(A, ALICE, 'inbound', at(1), 'first');
    const m2 = await message(A, ALICE, 'outbound', at(3), 'second');
    await message(A, BOB, 'inbound', at(4));
    const calls = new CallsRepository(t.store.db);
    await calls.insert({ id: 'call_1', numberId: A, direction: 'inbound', contact: ALICE, status: 'ringing', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: at(2) });
    await calls.addTurn('call_1', { callerText: 'hello there', dtmf: null, action: 'respond', agentReply: 'hi', createdAt: at(2) });
    await calls.addTurn('call_1', { callerText: 'bye', dtmf: null, action: 'respond', agentReply: 'goodbye', createdAt: at(2) });
    await calls.addTurn('call_1', { callerText: 'x', dtmf: '1', action: 'ignore', agentReply: null, createdAt: at(2) });
    const messages = await conversations.threadMessages(A, ALICE, undefined, 10);
    expect(messages.map((m) => [m.id, m.body, m.direction, m.media])).toEqual([
      [m2, 'second', 'outbound', []],
      [m1, 'first', 'inbound', []],
    ]);
    expect((await conversations.threadMessages(A, ALICE, { at: at(3), key: m2 }, 10)).map((m) => m.id)).toEqual([m1]);
    expect(await conversations.threadCalls(A, ALICE, undefined, 10)).toEqual([
      { id: 'call_1', direction: 'inbound', status: 'ringing', createdAt: at(2), durationMs: null, turns: 3, firstCallerText: 'hello there', lastAgentReply: 'goodbye' },
    ]);
    expect(await conversations.threadCalls(A, ALICE, { at: at(2), key: 'call_1' }, 10)).toEqual([]);
    // The call is a conversation too (the trigger), and its time counts as activity.
    expect((await conversations.list(A, undefined, 10)).map((c) => c.contact)).toEqual([BOB, ALICE]);
  });

  it('merges message ids across numbers, filters and searches case-insensitively, taking % literally', async () => {
    const a1 = await message(A, ALICE, 'outbound', at(1), 'Hello World');
    const b2 = await message(B, BOB, 'inbound', at(2), '100% sure');
    const a3 = await message(A, BOB, 'inbound', at(3), 'nothing');
    const b4 = await message(B, ALICE, 'outbound', at(4), 'world peace');
    expect(await dashboard.messageIds({ limit: 3 })).toEqual([b4, a3, b2]);
    expect(await dashboard.messageIds({ limit: 10, before: { createdAt: at(3), id: a3 } })).toEqual([b2, a1]);
    expect(await dashboard.messageIds({ limit: 10, contact: ALICE })).toEqual([b4, a1]);
    expect(await dashboard.messageIds({ limit: 10, direction: 'inbound', numberId: B })).toEqual([b2]);
    expect(await dashboard.messageIds({ limit: 10, search: 'WORLD' })).toEqual([b4, a1]);
    expect(await dashboard.messageIds({ limit: 10, search: '0%' })).toEqual([b2]);
    expect(await dashboard.messageIds({ limit: 10, search: '%' })).toEqual([b2]);
    expect(await dashboard.messageIds({ limit: 10, search: '1110002' })).toEqual([a3, b2]);
    expect(await dashboard.countSince(at(2))).toEqual({ inbound: 2, outbound: 1 });
  });

  it('groups conversations by contact, totals each day of a month, and counts webhook trouble', async () => {
    await message(A, ALICE, 'outbound', at(1, 5), 'x', 2);
    await message(A, ALICE, 'inbound', at(2, 5), 'y', 1);
    const lastB = await message(A, BOB, 'inbound', at(3, 6), 'z', 3);
    await message(B, ALICE, 'inbound', at(1, 7));
    await message(A, ALICE, 'outbound', '2026-02-01T00:00:00.000Z', 'next month', 5);
    expect((await dashboard.conversations(A, 10)).map((c) => [c.contact, c.messages])).toEqual([
      [ALICE, 3],
      [BOB, 1],
    ]);
    expect((await dashboard.conversations(undefined, 2)).map((c) => [c.numberId, c.contact])).toEqual([
      [A, ALICE],
      [B, ALICE],
    ]);
    expect((await dashboard.conversations(A, 10))[1]?.lastMessageId).toBe(lastB);
    const calls = new CallsRepository(t.store.db);
    await calls.insert({ id: 'call_1', numberId: A, direction: 'outbound', contact: BOB, status: 'queued', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: at(0, 6) });
    await calls.end({ id: 'call_1', status: 'completed', endReason: 'hangup', sipStatus: null, errorMessage: null, durationMs: 90_000, billableMinutes: 2, endedAt: at(5, 6) });
    const days = await dashboard.dailyTotals(A, '2026-01');
    expect(days).toHaveLength(31);
    expect(days.filter((d) => d.outbound + d.inbound + d.minutes > 0)).toEqual([
      { date: '2026-01-05', outbound: 2, inbound: 1, minutes: 0 },
      { date: '2026-01-06', outbound: 0, inbound: 3, minutes: 2 },
    ]);
    expect(await dashboard.webhookTrouble()).toEqual({ dead: 0, retrying: 0, held: 0 });
    const event = (id: string, status: string, lastError: string | null, messageId: string | null = null) => ({
      id,
      number_id: A,
      event: 'message.inbound',
      message_id: messageId,
      payload: '{}',
      status,
      next_attempt_at: 0,
      last_error: lastError,
      created_at: at(Number(id.slice(4))),
    });
    await t.store.db
      .insertInto('outbox')
      .values([event('evt_1', 'dead', 'x', lastB), event('evt_2', 'pending', 'timeout', lastB), event('evt_3', 'pending', null), event('evt_4', 'held', null), event('evt_5', 'delivered', null)])
      .execute();
    expect(await dashboard.webhookTrouble()).toEqual({ dead: 1, retrying: 1, held: 1 });
    expect(await dashboard.deliveryIdsFor(lastB)).toEqual(['evt_1', 'evt_2']);
  });
});
