import type { Db } from './db.ts';
import type { CallDirection, CallStatus } from './calls-repository.ts';
import { READ_COLUMNS, toMessage, type MessageRecord, type MessageRow } from './messages-repository.ts';

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

interface ConversationRow {
  number_id: string;
  contact: string;
  last_activity: string;
  unread_count: number;
  read_at: string | null;
}

interface ThreadCallRow {
  id: string;
  direction: CallDirection;
  status: CallStatus;
  created_at: string;
  duration_ms: number | null;
  turns: number;
  first_caller_text: string | null;
  last_agent_reply: string | null;
}

const toConversation = (r: ConversationRow): ConversationRecord => ({
  numberId: r.number_id,
  contact: r.contact,
  lastActivity: r.last_activity,
  unreadCount: r.unread_count,
  readAt: r.read_at,
});

const COLUMNS = 'number_id, contact, last_activity, unread_count, read_at';

const LIST = (after: string) => `SELECT ${COLUMNS} FROM conversations
    WHERE number_id = @numberId ${after} ORDER BY last_activity DESC, contact DESC LIMIT @limit`;
const THREAD_MESSAGES = (after: string) => `SELECT ${READ_COLUMNS} FROM messages
    WHERE contact = @contact AND number_id = @numberId ${after} ORDER BY created_at DESC, id DESC LIMIT @limit`;
const THREAD_CALLS = (after: string) => `SELECT id, direction, status, created_at, duration_ms, turns,
      (SELECT caller_text FROM call_turns WHERE call_id = calls.id ORDER BY seq LIMIT 1) AS first_caller_text,
      (SELECT agent_reply FROM call_turns WHERE call_id = calls.id AND agent_reply IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last_agent_reply
    FROM calls WHERE number_id = @numberId AND contact = @contact ${after} ORDER BY created_at DESC, id DESC LIMIT @limit`;

/**
 * The SQL behind conversation reads, each an index search (test/conversations checks the plans):
 * conversations_by_activity for the list, messages_by_contact and calls_by_contact for a thread.
 * A later page is its own statement, its row-value bound a range on the index rather than a
 * filter over every row before it.
 */
export const CONVERSATION_SQL = {
  list: LIST(''),
  listAfter: LIST('AND (last_activity, contact) < (@at, @key)'),
  get: `SELECT ${COLUMNS} FROM conversations WHERE number_id = ? AND contact = ?`,
  lastMessage: `SELECT id FROM messages WHERE contact = ? AND number_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
  threadMessages: THREAD_MESSAGES(''),
  threadMessagesAfter: THREAD_MESSAGES('AND (created_at, id) < (@at, @key)'),
  threadCalls: THREAD_CALLS(''),
  threadCallsAfter: THREAD_CALLS('AND (created_at, id) < (@at, @key)'),
  markRead: `UPDATE conversations SET read_at = max(@now, last_activity), unread_count = 0
    WHERE number_id = @numberId AND contact = @contact`,
} as const;

/** Per-contact conversations of a number: the list, read marks, and the messages and calls a thread is made of. */
export class ConversationsRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      list: db.prepare<Record<string, unknown>, ConversationRow>(CONVERSATION_SQL.list),
      listAfter: db.prepare<Record<string, unknown>, ConversationRow>(CONVERSATION_SQL.listAfter),
      get: db.prepare<[string, string], ConversationRow>(CONVERSATION_SQL.get),
      lastMessage: db.prepare<[string, string], { id: string }>(CONVERSATION_SQL.lastMessage),
      threadMessages: db.prepare<Record<string, unknown>, MessageRow>(CONVERSATION_SQL.threadMessages),
      threadMessagesAfter: db.prepare<Record<string, unknown>, MessageRow>(CONVERSATION_SQL.threadMessagesAfter),
      threadCalls: db.prepare<Record<string, unknown>, ThreadCallRow>(CONVERSATION_SQL.threadCalls),
      threadCallsAfter: db.prepare<Record<string, unknown>, ThreadCallRow>(CONVERSATION_SQL.threadCallsAfter),
      markRead: db.prepare(CONVERSATION_SQL.markRead),
    };
  }

  /** Most recent activity first, after `after` when given. */
  list(numberId: string, after: KeysetPosition | undefined, limit: number): ConversationRecord[] {
    const rows = after ? this.stmts.listAfter.all({ numberId, at: after.at, key: after.key, limit }) : this.stmts.list.all({ numberId, limit });
    return rows.map(toConversation);
  }

  get(numberId: string, contact: string): ConversationRecord | undefined {
    const row = this.stmts.get.get(numberId, contact);
    return row && toConversation(row);
  }

  lastMessageId(numberId: string, contact: string): string | undefined {
    return this.stmts.lastMessage.get(contact, numberId)?.id;
  }

  /** The conversation's messages, newest first, after `after` (created_at, id): one statement per page. */
  threadMessages(numberId: string, contact: string, after: KeysetPosition | undefined, limit: number): MessageRecord[] {
    const params = { numberId, contact, limit };
    const rows = after ? this.stmts.threadMessagesAfter.all({ ...params, at: after.at, key: after.key }) : this.stmts.threadMessages.all(params);
    return rows.map(toMessage);
  }

  /** The conversation's calls, newest first, after `after` (created_at, id). */
  threadCalls(numberId: string, contact: string, after: KeysetPosition | undefined, limit: number): ThreadCallRecord[] {
    const params = { numberId, contact, limit };
    const rows = after ? this.stmts.threadCallsAfter.all({ ...params, at: after.at, key: after.key }) : this.stmts.threadCalls.all(params);
    return rows.map((r) => ({
      id: r.id,
      direction: r.direction,
      status: r.status,
      createdAt: r.created_at,
      durationMs: r.duration_ms,
      turns: r.turns,
      firstCallerText: r.first_caller_text,
      lastAgentReply: r.last_agent_reply,
    }));
  }

  /** Marks everything so far read; false when there is no such conversation. */
  markRead(numberId: string, contact: string, now: string): boolean {
    return this.stmts.markRead.run({ numberId, contact, now }).changes === 1;
  }
}
