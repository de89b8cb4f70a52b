import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { CallDirection, CallStatus } from './calls-repository.ts';
import { toMessage, type MessageRecord } from './messages-repository.ts';
import type { Database } from './sql/database.ts';

/** One (number, contact) conversation as migration 017's table and triggers keep it. */
export interface ConversationRecord {
  numberId: string;
  contact: string;
  lastActivity: string;
  unreadCount: number;
  readAt: string | null;
}

/** A keyset position: rows strictly after it in the newest-first order. */
export interface KeysetPosition {
  at: string;
  key: string;
}

/** What a thread shows of a call: the record's outline and the text of its first and last turns. */
export interface ThreadCallRecord {
  id: string;
  direction: CallDirection;
  status: CallStatus;
  createdAt: string;
  durationMs: number | null;
  turns: number;
  firstCallerText: string | null;
  lastAgentReply: string | null;
}

/** The row toMessage reads (whatever the messages repository names it). */
type MessageRow = Parameters<typeof toMessage>[0];

/**
 * The statements behind conversation reads, each an index search on both dialects:
 * conversations_by_activity for the list, messages_by_contact and calls_by_contact for a thread.
 * A later page adds a row-value bound, `(a, b) < (x, y)` (SQLite 3.15+ and PostgreSQL), which
 * both plan as a range on the index rather than a filter over every row before it. The
 * repository runs these builders; conversationStatements compiles them for the plan test.
 */
const statements = {
  list: (db: Kysely<Database>, numberId: string, after: KeysetPosition | undefined, limit: number) => {
    let q = db.selectFrom('conversations').select(['number_id', 'contact', 'last_activity', 'unread_count', 'read_at']).where('number_id', '=', numberId);
    if (after) q = q.where((eb) => eb(eb.refTuple('last_activity', 'contact'), '<', eb.tuple(after.at, after.key)));
    return q.orderBy('last_activity', 'desc').orderBy('contact', 'desc').limit(limit);
  },
  get: (db: Kysely<Database>, numberId: string, contact: string) =>
    db.selectFrom('conversations').select(['number_id', 'contact', 'last_activity', 'unread_count', 'read_at']).where('number_id', '=', numberId).where('contact', '=', contact),
  lastMessage: (db: Kysely<Database>, numberId: string, contact: string) =>
    db.selectFrom('messages').select('id').where('contact', '=', contact).where('number_id', '=', numberId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1),
  threadMessages: (db: Kysely<Database>, numberId: string, contact: string, after: KeysetPosition | undefined, limit: number) => {
    let q = db.selectFrom('messages').selectAll().where('contact', '=', contact).where('number_id', '=', numberId);
    if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.at, after.key)));
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
  },
  threadCalls: (db: Kysely<Database>, numberId: string, contact: string, after: KeysetPosition | undefined, limit: number) => {
    let q = db
      .selectFrom('calls')
      .select(['id', 'direction', 'status', 'created_at', 'duration_ms', 'turns'])
      .select((eb) => [
        eb.selectFrom('call_turns').select('caller_text').whereRef('call_turns.call_id', '=', 'calls.id').orderBy('seq').limit(1).as('first_caller_text'),
        eb
          .selectFrom('call_turns')
          .select('agent_reply')
          .whereRef('call_turns.call_id', '=', 'calls.id')
          .where('agent_reply', 'is not', null)
          .orderBy('seq', 'desc')
          .limit(1)
          .as('last_agent_reply'),
      ])
      .where('number_id', '=', numberId)
      .where('contact', '=', contact);
    if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.at, after.key)));
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
  },
  // The read mark never goes behind the last activity (a message stamped ahead of this clock):
  // a CASE, as SQLite's scalar max() is PostgreSQL's greatest().
  markRead: (db: Kysely<Database>, numberId: string, contact: string, now: string) =>
    db
      .updateTable('conversations')
      .set({ read_at: sql<string>`case when last_activity > ${now} then last_activity else ${now} end`, unread_count: 0 })
      .where('number_id', '=', numberId)
      .where('contact', '=', contact),
};

/**
 * Every conversation statement compiled for `db`'s dialect with placeholder values, by name (a
 * later page's statement as `<name>After`): test/conversations checks each one's plan.
 */
export function conversationStatements(db: Kysely<Database>): Record<string, CompiledQuery> {
  const after = { at: 'x', key: 'x' };
  return {
    list: statements.list(db, 'x', undefined, 1).compile(),
    listAfter: statements.list(db, 'x', after, 1).compile(),
    get: statements.get(db, 'x', 'x').compile(),
    lastMessage: statements.lastMessage(db, 'x', 'x').compile(),
    threadMessages: statements.threadMessages(db, 'x', 'x', undefined, 1).compile(),
    threadMessagesAfter: statements.threadMessages(db, 'x', 'x', after, 1).compile(),
    threadCalls: statements.threadCalls(db, 'x', 'x', undefined, 1).compile(),
    threadCallsAfter: statements.threadCalls(db, 'x', 'x', after, 1).compile(),
    markRead: statements.markRead(db, 'x', 'x', 'x').compile(),
  };
}

/** Per-contact conversations of a number: the list, read marks, and the messages and calls a thread is made of. */
export class ConversationsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Most recent activity first, after `after` when given. */
  async list(numberId: string, after: KeysetPosition | undefined, limit: number): Promise<ConversationRecord[]> {
    const rows = await statements.list(this.db, numberId, after, limit).execute();
    return rows.map((r) => ({ numberId: r.number_id, contact: r.contact, lastActivity: r.last_activity, unreadCount: r.unread_count, readAt: r.read_at }));
  }

  async get(numberId: string, contact: string): Promise<ConversationRecord | undefined> {
    const r = await statements.get(this.db, numberId, contact).executeTakeFirst();
    return r && { numberId: r.number_id, contact: r.contact, lastActivity: r.last_activity, unreadCount: r.unread_count, readAt: r.read_at };
  }

  async lastMessageId(numberId: string, contact: string): Promise<string | undefined> {
    return (await statements.lastMessage(this.db, numberId, contact).executeTakeFirst())?.id;
  }

  /** The conversation's messages, newest first, after `after` (created_at, id): one statement per page. */
  async threadMessages(numberId: string, contact: string, after: KeysetPosition | undefined, limit: number): Promise<MessageRecord[]> {
    const rows = await statements.threadMessages(this.db, numberId, contact, after, limit).execute();
    // direction, channel and status are held to their unions by the schema's CHECKs.
    return rows.map((r) => toMessage(r as MessageRow));
  }

  /** The conversation's calls, newest first, after `after` (created_at, id). */
  async threadCalls(numberId: string, contact: string, after: KeysetPosition | undefined, limit: number): Promise<ThreadCallRecord[]> {
    const rows = await statements.threadCalls(this.db, numberId, contact, after, limit).execute();
    return rows.map((r) => ({
      id: r.id,
      direction: r.direction as CallDirection,
      status: r.status as CallStatus,
      createdAt: r.created_at,
      durationMs: r.duration_ms,
      turns: r.turns,
      firstCallerText: r.first_caller_text,
      lastAgentReply: r.last_agent_reply,
    }));
  }

  /** Marks everything so far read; false when there is no such conversation. */
  async markRead(numberId: string, contact: string, now: string): Promise<boolean> {
    const res = await statements.markRead(this.db, numberId, contact, now).executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }
}
