import type { ApiPrincipal } from '../auth/index.ts';
import type { Clock } from '../clock/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import { decodeCursor, encodeCursor, toContact, toMessageView } from '../messaging/index.ts';
import type { NumberService } from '../numbers/index.ts';
import type { ConversationsRepository, KeysetPosition, MessagesRepository, NumberRecord, ThreadCallRecord } from '../store/index.ts';
import type { CallEntry, ConversationEntry, ConversationList, ConversationThread, PageOptions, ReadMark } from './types.ts';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** Characters kept of each transcript line in a call entry's summary. */
export const SUMMARY_TEXT_CHARS = 160;

export interface ConversationsServiceDeps {
  numbers: NumberService;
  conversations: ConversationsRepository;
  messages: MessagesRepository;
  clock: Clock;
}

/**
 * A number's conversations, one per contact: the list with unread counts, a thread (messages of
 * both channels and calls, newest first) and the read mark. With `principal` the number must be in the API key's scope (a 404 otherwise, as on
 * every /api/numbers/:id route); without it the caller is the operator.
 */
export class ConversationsService {
  constructor(private readonly deps: ConversationsServiceDeps) {}

  async list(numberId: string, opts: PageOptions = {}, principal?: ApiPrincipal): Promise<ConversationList> {
    const number = await this.deps.numbers.find(numberId, principal);
    const limit = pageLimit(opts.limit);
    const after = position(opts.cursor);
    const rows = await this.deps.conversations.list(number.id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    // Each row's last message, looked up together (a page is at most 100 rows).
    const messages = await Promise.all(
      page.map(async (c) => {
        const lastId = await this.deps.conversations.lastMessageId(number.id, c.contact);
        return lastId === undefined ? undefined : this.deps.messages.get(lastId);
      }),
    );
    return {
      conversations: page.map((c, i) => {
        const message = messages[i];
        return {
          contact: c.contact,
          last_activity: c.lastActivity,
          unread_count: c.unreadCount,
          last_read_at: c.readAt,
          last_message: message ? toMessageView(message, number) : null,
        };
      }),
      next_cursor: rows.length > limit && last ? encodeCursor({ createdAt: last.lastActivity, id: last.contact }) : null,
    };
  }

  async thread(numberId: string, contact: string, opts: PageOptions = {}, principal?: ApiPrincipal): Promise<ConversationThread> {
    const { number, contact: other } = await this.conversation(numberId, contact, principal);
    const limit = pageLimit(opts.limit);
    const after = position(opts.cursor);
    // Each source's next limit + 1, merged: the page and whether anything follows it.
    const [messageRows, callRows] = await Promise.all([
      this.deps.conversations.threadMessages(number.id, other, after, limit + 1),
      this.deps.conversations.threadCalls(number.id, other, after, limit + 1),
    ]);
    const messages = messageRows.map((m) => ({ at: m.createdAt, id: m.id, entry: { type: 'message' as const, ...toMessageView(m, number) } }));
    const calls = callRows.map((c) => ({ at: c.createdAt, id: c.id, entry: callEntry(c) }));
    const merged = [...messages, ...calls].sort((a, b) => (a.at === b.at ? compare(b.id, a.id) : compare(b.at, a.at)));
    const page = merged.slice(0, limit);
    const last = page[page.length - 1];
    return {
      contact: other,
      entries: page.map((e): ConversationEntry => e.entry),
      next_cursor: merged.length > limit && last ? encodeCursor({ createdAt: last.at, id: last.id }) : null,
    };
  }

  /** Marks every message so far read: the conversation's unread count drops to 0 until the next inbound one. */
  async markRead(numberId: string, contact: string, principal?: ApiPrincipal): Promise<ReadMark> {
    const { number, contact: other } = await this.conversation(numberId, contact, principal);
    if (!(await this.deps.conversations.markRead(number.id, other, new Date(this.deps.clock.now()).toISOString()))) throw notFound(other);
    return { contact: other, unread_count: 0 };
  }

  private async conversation(numberId: string, contact: string, principal: ApiPrincipal | undefined): Promise<{ number: NumberRecord; contact: string }> {
    const number = await this.deps.numbers.find(numberId, principal);
    const other = toContact(contact, 'contact');
    if (!(await this.deps.conversations.get(number.id, other))) throw notFound(other);
    return { number, contact: other };
  }
}

function notFound(contact: string): NotFoundError {
  return new NotFoundError(`No conversation with ${contact} on this number`);
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) throw new ValidationError(`limit: must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  return limit;
}

function position(cursor: string | undefined): KeysetPosition | undefined {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor);
  if (!decoded) throw new ValidationError('cursor: not a cursor this API returned');
  return { at: decoded.createdAt, key: decoded.id };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function callEntry(c: ThreadCallRecord): CallEntry {
  const lines = [
    ...(c.firstCallerText ? [`Caller: ${cut(c.firstCallerText)}`] : []),
    ...(c.lastAgentReply ? [`Agent: ${cut(c.lastAgentReply)}`] : []),
  ];
  return {
    type: 'call',
    id: c.id,
    direction: c.direction,
    status: c.status,
    started_at: c.createdAt,
    duration_s: c.durationMs === null ? null : Math.round(c.durationMs / 1000),
    summary: lines.length > 0 ? lines.join(' … ') : null,
  };
}

function cut(text: string): string {
  // By code point, so an emoji is never split into half a surrogate pair.
  const chars = Array.from(text.trim().replace(/\s+/g, ' '));
  return chars.length <= SUMMARY_TEXT_CHARS ? chars.join('') : `${chars.slice(0, SUMMARY_TEXT_CHARS - 1).join('')}…`;
}
