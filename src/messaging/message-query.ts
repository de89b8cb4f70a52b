import type { ApiPrincipal } from '../auth/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import type { NumberService } from '../numbers/index.ts';
import type { MessageStatus, MessagesRepository } from '../store/index.ts';
import { toContact } from './phone.ts';
import { decodeCursor, encodeCursor, toMessageView, type MessageView } from './views.ts';

export interface MessageListQuery {
  direction?: 'inbound' | 'outbound' | undefined;
  status?: MessageStatus | undefined;
  contact?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

function isoOrThrow(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationError(`${field}: must be an ISO 8601 date or timestamp`);
  return new Date(t).toISOString();
}

/** Reading messages: the list with filters and cursor, and one message with its parts. */
export class MessageQuery {
  constructor(
    private readonly numbers: NumberService,
    private readonly messages: MessagesRepository,
  ) {}

  async list(principal: ApiPrincipal, numberId: string, q: MessageListQuery): Promise<{ messages: MessageView[]; nextCursor: string | null }> {
    const number = this.numbers.get(numberId, principal);
    const limit = q.limit ?? 50;
    const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !before) throw new ValidationError('cursor: not a cursor this API returned');
    const rows = await this.messages.list(number.id, {
      direction: q.direction,
      status: q.status,
      contact: q.contact === undefined ? undefined : toContact(q.contact, 'contact'),
      since: isoOrThrow(q.since, 'since'),
      until: isoOrThrow(q.until, 'until'),
      before,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { messages: page.map((m) => toMessageView(m, number)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async get(principal: ApiPrincipal, numberId: string, messageId: string): Promise<MessageView> {
    const number = this.numbers.get(numberId, principal);
    const message = await this.messages.get(messageId);
    if (!message || message.numberId !== number.id) throw new NotFoundError(`Message ${messageId} not found`);
    return toMessageView(message, number, await this.messages.parts(message.id));
  }
}
