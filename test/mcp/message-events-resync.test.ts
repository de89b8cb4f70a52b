/**
 * MCP's message events after the cluster's bus lost notifications (MessageChanges.resync, which
 * the ChangeRelay fires on a bus reconnect): wait_for_reply looks in the store again and finds a
 * reply whose change it never heard of. A real SQLite store; the reply is written through a
 * second repository with a feed of its own, as another node writes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, describe } from 'vitest';
import { MessageEvents } from '../../src/mcp/index.ts';
import { waitForReply } from '../../src/mcp/reply-waiter.ts';
import { MessagesRepository, openDatabase, sqliteSqlStore, type Database, type Db, type SqlStore } from '../../src/store/index.ts';

const NUMBER = 'num_a';
const CONTACT = '+15557654321';
const SINCE = '2026-12-05T00:00:00.000Z';

describe('MCP message events on a resync', () => {
  let dir = '';
  let handle: Db;
  let store: SqlStore<Database>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-mcp-resync-'));
    handle = openDatabase(join(dir, 'store.db'));
    store = sqliteSqlStore<Database>(handle);
    await store.db
      .insertInto('numbers')
      .values({ id: NUMBER, phone_number: '+15550000001', line_id: 'l1', webhook_secret: 's', created_at: SINCE, updated_at: SINCE })
      .execute();
  });
  afterEach(async () => {
    await store.close();
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reply = (repo: MessagesRepository, id: string) =>
    repo.insertInbound({
      id,
      numberId: NUMBER,
      channel: 'sms',
      contact: CONTACT,
      body: 'yes',
      media: [],
      encoding: 'gsm7',
      segments: 1,
      partial: false,
      missingParts: [],
      dedupeKey: id,
      createdAt: '2026-12-05T00:00:01.000Z',
    });

  it('tells each subscriber once per resync, and wait_for_reply finds the reply it never heard of', async () => {
    const messages = new MessagesRepository(store.db);
    const events = new MessageEvents(messages);
    let resyncs = 0;
    const off = events.subscribe(() => undefined, () => resyncs++);
    const abort = new AbortController();
    let answered: string | undefined | null = null;
    const waiting = waitForReply(events, messages, { numberId: NUMBER, contact: CONTACT, since: SINCE, timeoutMs: 30_000, signal: abort.signal }).then((m) => {
      answered = m?.id;
      return m;
    });
    // Another node stores the reply; its notification is lost, so nothing here hears of it.
    await reply(new MessagesRepository(store.db), 'msg_elsewhere');
    await new Promise((r) => setImmediate(r));
    expect(answered).toBeNull();
    messages.feed().resync();
    expect(resyncs).toBe(1);
    expect((await waiting)?.id).toBe('msg_elsewhere');
    off?.();
    messages.feed().resync();
    expect(resyncs).toBe(1);
  });
});
