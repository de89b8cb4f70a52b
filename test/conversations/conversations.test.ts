import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/api/index.ts';
import type { Core } from '../../src/core.ts';
import { newMessageId } from '../../src/ids/index.ts';
import { CallsRepository, DATABASE_FILE, MIGRATIONS, MessagesRepository, openDatabase, purgeStored, sqliteSqlStore, type Db } from '../../src/store/index.ts';
import { conversationStatements } from '../../src/store/conversations-repository.ts';
import type { Database } from '../../src/store/sql/database.ts';
import { testApp } from '../helpers/gateway.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789' };
const ALICE = '+15551110001';
const BOB = '+15551110002';
const CAROL = '+15551110003';

interface Summary {
  contact: string;
  last_activity: string;
  unread_count: number;
  last_read_at: string | null;
  last_message: { id: string; body: string; direction: string; channel: string; from: string; to: string } | null;
}
interface Entry {
  type: 'message' | 'call';
  id: string;
  channel?: string;
  direction: string;
  body?: string;
  createdAt?: string;
  started_at?: string;
  duration_s?: number | null;
  summary?: string | null;
  status?: string;
}
interface ListBody {
  conversations: Summary[];
  next_cursor: string | null;
}
interface ThreadBody {
  contact: string;
  entries: Entry[];
  next_cursor: string | null;
}

/** An ISO time on a fixed day, minute `m` (so the order of the test's rows is known). */
const at = (m: number) => new Date(Date.UTC(2026, 0, 10, 12, m)).toISOString();

async function inbound(messages: MessagesRepository, numberId: string, contact: string, body: string, createdAt: string, channel: 'sms' | 'mms' = 'sms'): Promise<string> {
  const id = newMessageId(Date.parse(createdAt));
  await messages.insertInbound({
    id,
    numberId,
    channel,
    contact,
    body,
    media: channel === 'mms' ? ['https://gw.example/media/abc123'] : [],
    encoding: 'gsm7',
    segments: 1,
    partial: false,
    missingParts: [],
    createdAt,
    dedupeKey: id,
  });
  return id;
}

async function outbound(messages: MessagesRepository, numberId: string, contact: string, body: string, createdAt: string, channel: 'sms' | 'mms' = 'sms'): Promise<string> {
  const id = newMessageId(Date.parse(createdAt));
  await messages.insert({ id, numberId, direction: 'outbound', channel, contact, body, media: [], status: 'sent', encoding: 'gsm7', segments: 1, createdAt });
  return id;
}

/** The unread count straight from the messages, to hold the trigger-kept counter against. */
function countedUnread(db: Db, numberId: string, contact: string): number {
  const mark = db.prepare<[string, string], { read_at: string | null }>('SELECT read_at FROM conversations WHERE number_id = ? AND contact = ?').get(numberId, contact);
  return (
    db
      .prepare<[string, string, string], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE number_id = ? AND contact = ? AND direction = 'inbound' AND created_at > ?`,
      )
      .get(numberId, contact, mark?.read_at ?? '') as { n: number }
  ).n;
}

describe('conversations API (real SQLite file, the whole HTTP app)', () => {
  const tempDir = useTempDir();
  let app: App;
  let core: Core;
  let calls: CallsRepository;
  let numberA: string;
  let numberB: string;
  let keyA: string;
  let auth: Record<string, string>;

  beforeEach(async () => {
    ({ app, core } = await testApp(tempDir()));
    calls = new CallsRepository(core.store.db);
    numberA = (await core.numbers.lineFound('la', '+15550000001')).id;
    numberB = (await core.numbers.lineFound('lb', '+15550000002')).id;
    keyA = (await core.apiKeys.create({ numberIds: [numberA] })).key;
    auth = { authorization: `Bearer ${keyA}` };
  });
  afterEach(async () => {
    await app.close();
    await core.close();
  });

  const get = async <T>(url: string, headers = auth): Promise<{ status: number; body: T }> => {
    const res = await app.inject({ url, headers });
    return { status: res.statusCode, body: res.json() };
  };
  const read = async (numberId: string, contact: string, headers = auth) => {
    const res = await app.inject({ method: 'POST', url: `/api/numbers/${numberId}/conversations/${encodeURIComponent(contact)}/read`, headers });
    return { status: res.statusCode, body: res.json() as unknown };
  };

  it('lists one row per contact, most recent activity first, with the last message and unread inbound messages', async () => {
    const m = core.messages;
    await inbound(m, numberA, ALICE, 'hi from alice', at(1));
    await outbound(m, numberA, ALICE, 'hello alice', at(2));
    await inbound(m, numberA, BOB, 'bob 1', at(3));
    await inbound(m, numberA, BOB, 'bob 2', at(4), 'mms');
    await inbound(m, numberA, ALICE, 'alice again', at(5));
    await outbound(m, numberA, CAROL, 'to carol', at(6));
    await inbound(m, numberB, ALICE, 'other number', at(7));
    // A send through the API is a conversation too (its row is written by the send path itself).
    const sent = await app.inject({ method: 'POST', url: `/api/numbers/${numberA}/send/sms`, headers: auth, payload: { to: '+1 (555) 111-0004', body: 'via API' } });
    expect(sent.statusCode).toBe(200);

    const list = await get<ListBody>(`/api/numbers/${numberA}/conversations`);
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.conversations.map((c) => [c.contact, c.unread_count, c.last_message?.body])).toEqual([
      ['+15551110004', 0, 'via API'],
      [CAROL, 0, 'to carol'],
      [ALICE, 2, 'alice again'],
      [BOB, 2, 'bob 2'],
    ]);
    const alice = list.body.conversations[2] as Summary;
    expect(alice).toMatchObject({ last_activity: at(5), last_read_at: null });
    // The message view of /messages, as is.
    expect(alice.last_message).toMatchObject({ direction: 'inbound', channel: 'sms', from: ALICE, to: '+15550000001' });
    for (const c of list.body.conversations) expect(c.unread_count).toBe(countedUnread(core.db, numberA, c.contact));

    // Number B keeps its own conversations.
    const b = await get<ListBody>(`/api/numbers/${numberB}/conversations`, await keyFor(core, numberB));
    expect(b.body.conversations.map((c) => [c.contact, c.unread_count])).toEqual([[ALICE, 1]]);
  });

  it('marks a conversation read: unread drops to 0, only later inbound messages count again', async () => {
    const m = core.messages;
    await inbound(m, numberA, ALICE, 'one', at(1));
    await inbound(m, numberA, ALICE, 'two', at(2));
    expect(await read(numberA, ALICE)).toEqual({ status: 200, body: { contact: ALICE, unread_count: 0 } });
    const after = await get<ListBody>(`/api/numbers/${numberA}/conversations`);
    expect(after.body.conversations[0]).toMatchObject({ contact: ALICE, unread_count: 0 });
    expect(after.body.conversations[0]?.last_read_at).not.toBeNull();

    // Marked at the gateway's clock (now), so messages written now are after it.
    const now = new Date(Date.now() + 60_000).toISOString();
    await inbound(m, numberA, ALICE, 'three', now);
    await outbound(m, numberA, ALICE, 'reply', now);
    const again = await get<ListBody>(`/api/numbers/${numberA}/conversations`);
    expect(again.body.conversations[0]).toMatchObject({ contact: ALICE, unread_count: 1 });
    expect(countedUnread(core.db, numberA, ALICE)).toBe(1);

    // Without the +, as a sloppy client might send it, the same contact.
    expect((await read(numberA, ALICE.slice(1))).body).toEqual({ contact: ALICE, unread_count: 0 });
    // A contact never written to is a 404 in the spec's shape; a malformed number a 400.
    expect(await read(numberA, CAROL)).toEqual({ status: 404, body: { error: 'Not Found', message: `No conversation with ${CAROL} on this number` } });
    const bad = await read(numberA, '+1');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body as object).sort()).toEqual(['error', 'message']);
  });

  it('pages conversations with an opaque cursor that stays put when new messages arrive meanwhile', async () => {
    const contacts = ['+15552220001', '+15552220002', '+15552220003', '+15552220004', '+15552220005'];
    for (const [i, c] of contacts.entries()) await inbound(core.messages, numberA, c, `m${i}`, at(i + 1));
    const first = await get<ListBody>(`/api/numbers/${numberA}/conversations?limit=2`);
    expect(first.body.conversations.map((c) => c.contact)).toEqual(['+15552220005', '+15552220004']);
    expect(first.body.next_cursor).toMatch(/^[\w-]+$/);

    // Meanwhile: a new contact, and the oldest conversation comes back to the top.
    await inbound(core.messages, numberA, '+15552220006', 'new', at(30));
    await inbound(core.messages, numberA, '+15552220001', 'back', at(31));
    const second = await get<ListBody>(`/api/numbers/${numberA}/conversations?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.conversations.map((c) => c.contact)).toEqual(['+15552220003', '+15552220002']);
    expect(second.body.next_cursor).toBeNull();
    const fresh = await get<ListBody>(`/api/numbers/${numberA}/conversations?limit=3`);
    expect(fresh.body.conversations.map((c) => c.contact)).toEqual(['+15552220001', '+15552220006', '+15552220005']);
    expect(fresh.body.conversations[0]?.last_message?.body).toBe('back');
  });

  it('shows a thread newest first: SMS and MMS both ways and a call with a bounded transcript summary, paged', async () => {
    const m = core.messages;
    await inbound(m, numberA, ALICE, 'sms in', at(1));
    await outbound(m, numberA, ALICE, 'mms out', at(2), 'mms');
    await calls.insert({ id: 'call_t1', numberId: numberA, direction: 'inbound', contact: ALICE, status: 'ringing', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: at(3) });
    await calls.markAnswered('call_t1', at(3));
    await calls.addTurn('call_t1', { callerText: 'I would like to book a table for four people tonight', dtmf: null, action: 'respond', agentReply: 'Sure, at what time?', createdAt: at(3) });
    await calls.addTurn('call_t1', { callerText: 'eight', dtmf: null, action: 'respond', agentReply: `Booked for eight. ${'Thanks! '.repeat(60)}`, createdAt: at(3) });
    await calls.end({ id: 'call_t1', status: 'completed', endReason: 'hangup', sipStatus: null, errorMessage: null, durationMs: 61_400, billableMinutes: 2, endedAt: at(4) });
    await inbound(m, numberA, ALICE, 'mms in', at(5), 'mms');
    await outbound(m, numberA, BOB, 'not in this thread', at(6));

    const url = `/api/numbers/${numberA}/conversations/${encodeURIComponent(ALICE)}`;
    // The page's messages come with the thread's own statement, not one lookup each (a spy on the real repository).
    const lookups = vi.spyOn(core.messages, 'get');
    const all = await get<ThreadBody>(url);
    expect(lookups).not.toHaveBeenCalled();
    lookups.mockRestore();
    expect(all.status).toBe(200);
    expect(all.body.contact).toBe(ALICE);
    expect(all.body.entries.map((e) => [e.type, e.direction, e.channel ?? null, e.body ?? null])).toEqual([
      ['message', 'inbound', 'mms', 'mms in'],
      ['call', 'inbound', null, null],
      ['message', 'outbound', 'mms', 'mms out'],
      ['message', 'inbound', 'sms', 'sms in'],
    ]);
    const call = all.body.entries[1] as Entry;
    expect(call).toMatchObject({ id: 'call_t1', status: 'completed', started_at: at(3), duration_s: 61 });
    expect(call.summary).toMatch(/^Caller: I would like to book a table for four people tonight … Agent: Booked for eight\. Thanks!/);
    expect(call.summary?.length).toBeLessThanOrEqual(2 * 160 + 20);
    expect(call.summary?.endsWith('…')).toBe(true);

    // Page by two: the same entries, in order, each once.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { body: ThreadBody } = await get<ThreadBody>(`${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.entries.map((e) => e.id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(all.body.entries.map((e) => e.id));
    expect(pages).toBe(2);

    // The operator's dashboard reads the same thread under /admin (no key scope there).
    const admin = await get<ThreadBody>(`/admin/numbers/${numberA}/conversations/${encodeURIComponent(ALICE)}`, ADMIN);
    expect(admin.body).toEqual(all.body);
  });

  it('applies the key scope as every /api/numbers/:id route does: another number is a 404 like a missing one', async () => {
    await inbound(core.messages, numberB, ALICE, 'for B', at(1));
    for (const url of [
      `/api/numbers/${numberB}/conversations`,
      `/api/numbers/${numberB}/conversations/${encodeURIComponent(ALICE)}`,
    ]) {
      const res = await get<{ error: string; message: string }>(url);
      expect(res).toEqual({ status: 404, body: { error: 'Not Found', message: `Number ${numberB} not found` } });
    }
    expect(await read(numberB, ALICE)).toEqual({ status: 404, body: { error: 'Not Found', message: `Number ${numberB} not found` } });
    // Nothing was marked read on B.
    expect(countedUnread(core.db, numberB, ALICE)).toBe(1);
    expect((await get(`/api/numbers/${numberB}/conversations`, { authorization: 'Bearer agp_nope' })).status).toBe(401);
  });

  it('answers 400 in the {error, message} shape to a bad cursor or limit', async () => {
    await inbound(core.messages, numberA, ALICE, 'x', at(1));
    const base = `/api/numbers/${numberA}/conversations`;
    for (const query of ['cursor=not-a-cursor', `cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'limit=0', 'limit=101', 'limit=ten']) {
      for (const url of [`${base}?${query}`, `${base}/${encodeURIComponent(ALICE)}?${query}`]) {
        const res = await get<Record<string, unknown>>(url);
        expect(res.status, url).toBe(400);
        expect(Object.keys(res.body).sort(), url).toEqual(['error', 'message']);
        expect(res.body.message, url).toMatch(query.startsWith('cursor') ? /cursor/ : /limit/);
      }
    }
    // Default 20, at most 100.
    for (let i = 0; i < 25; i++) await inbound(core.messages, numberA, `+1555333${String(i).padStart(4, '0')}`, 'x', at(10 + i));
    expect((await get<ListBody>(base)).body.conversations).toHaveLength(20);
    expect((await get<ListBody>(`${base}?limit=100`)).body.conversations).toHaveLength(26);
  });

  it('keeps counts right when retention purges messages, and drops a conversation left empty', async () => {
    await inbound(core.messages, numberA, ALICE, 'old', at(1));
    await inbound(core.messages, numberA, ALICE, 'new', at(20));
    await inbound(core.messages, numberA, BOB, 'old bob', at(2));
    await purgeStored(core.store, join(tempDir(), 'media'), { messagesBeforeMs: Date.parse(at(10)) });
    const list = await get<ListBody>(`/api/numbers/${numberA}/conversations`);
    expect(list.body.conversations.map((c) => [c.contact, c.unread_count, c.last_message?.body])).toEqual([[ALICE, 1, 'new']]);
  });
});

/** A key for one number (the suite's own key is scoped to number A). */
async function keyFor(core: Core, numberId: string): Promise<Record<string, string>> {
  return { authorization: `Bearer ${(await core.apiKeys.create({ numberIds: [numberId] })).key}` };
}

describe('conversation reads run on indexes (EXPLAIN QUERY PLAN)', () => {
  const tempDir = useTempDir();

  it('plans every list, thread and read-mark statement as an index search, with no scan and no sort', async () => {
    const db = openDatabase(join(tempDir(), DATABASE_FILE));
    const store = sqliteSqlStore<Database>(db);
    try {
      // The repository's own builders, compiled for SQLite.
      const statements = Object.entries(conversationStatements(store.db));
      expect(statements.map(([name]) => name)).toEqual(expect.arrayContaining(['list', 'listAfter', 'threadMessagesAfter', 'threadCallsAfter', 'markRead']));
      for (const [name, compiled] of statements) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${compiled.sql}`).all(...compiled.parameters) as { detail: string }[];
        const details = plan.map((p) => p.detail);
        expect(details.some((d) => /^SEARCH .* USING (COVERING INDEX|INDEX|PRIMARY KEY)/.test(d)), `${name}: ${details.join(' | ')}`).toBe(true);
        for (const d of details) {
          expect(d, name).not.toMatch(/^SCAN /);
          expect(d, name).not.toMatch(/TEMP B-TREE/);
        }
        // A later page starts where the cursor points, on the index, not after a walk past every row before it.
        if (name.endsWith('After')) expect(details[0], name).toMatch(/\(\w+,\w+\)<\(\?,\?\)\)$/);
      }
    } finally {
      await store.close();
      db.close();
    }
  });

  it('backfills conversations from messages and calls stored before migration 017', async () => {
    const file = join(tempDir(), DATABASE_FILE);
    const before = openDatabase(file, { migrations: MIGRATIONS.filter((m) => m.version < 17) });
    before.prepare(`INSERT INTO numbers (id, phone_number, status, webhook_secret, created_at, updated_at) VALUES ('num_a', '+15550000001', 'active', 'x', ?, ?)`).run(at(0), at(0));
    const beforeStore = sqliteSqlStore<Database>(before);
    const messages = new MessagesRepository(beforeStore.db);
    await inbound(messages, 'num_a', ALICE, 'one', at(1));
    await inbound(messages, 'num_a', ALICE, 'two', at(2));
    await outbound(messages, 'num_a', BOB, 'out', at(3));
    // The calls table as it was before 017 (later migrations add columns the repository writes).
    before.prepare(`INSERT INTO calls (id, number_id, direction, contact, status, created_at) VALUES ('call_b', 'num_a', 'outbound', ?, 'queued', ?)`).run(CAROL, at(4));
    await beforeStore.close();
    before.close();
    const after = openDatabase(file);
    try {
      const rows = after.prepare('SELECT contact, last_activity, unread_count FROM conversations ORDER BY last_activity DESC').all();
      expect(rows).toEqual([
        { contact: CAROL, last_activity: at(4), unread_count: 0 },
        { contact: BOB, last_activity: at(3), unread_count: 0 },
        { contact: ALICE, last_activity: at(2), unread_count: 2 },
      ]);
    } finally {
      after.close();
    }
  });
});
