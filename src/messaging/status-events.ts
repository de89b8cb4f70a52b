import type { Kysely } from 'kysely';
import type { Clock } from '../clock/index.ts';
import { newId } from '../ids/index.ts';
import { OutboxRepository, type MessageStatus, type MessageStatusView, type MessagesRepository, type NumbersRepository, type PartRecord } from '../store/index.ts';
import type { Database } from '../store/sql/database.ts';
import type { StatusPayload } from '../webhooks/index.ts';

/** The message status its parts add up to. */
export function aggregateStatus(parts: readonly PartRecord[]): { status: MessageStatus; failed?: PartRecord } {
  const failed = parts.find((p) => p.status === 'failed');
  if (failed) return { status: 'failed', failed };
  if (parts.length > 0 && parts.every((p) => p.status === 'delivered')) return { status: 'delivered' };
  if (parts.length > 0 && parts.every((p) => p.status === 'sent' || p.status === 'delivered')) return { status: 'sent' };
  if (parts.some((p) => p.status !== 'queued')) return { status: 'sending' };
  return { status: 'queued' };
}

const EVENT_STATUSES = new Set<MessageStatus>(['sent', 'delivered', 'failed']);

/**
 * Recomputes an outbound message's status from its parts and, when it reaches sent,
 * delivered or failed, writes a `message.status` event to the outbox (for numbers with a
 * webhook). Call with the transaction that changed the parts (`tx`); resolves true when the
 * status reached one of those three.
 */
export class MessageStatusTracker {
  /** `messages`: the root repository, whose change feed hears the status changes. */
  constructor(
    private readonly messages: MessagesRepository,
    private readonly numbers: NumbersRepository,
    private readonly clock: Clock,
  ) {}

  async refresh(tx: Kysely<Database>, messageId: string): Promise<boolean> {
    const found = await this.messages.on(tx).statusOf(messageId);
    if (!found || found.message.direction !== 'outbound') return false;
    const { message } = found;
    const { status, failed } = aggregateStatus(found.parts);
    const error = failed ? { code: failed.errorCode ?? 'UNKNOWN', message: failed.errorMessage ?? 'delivery failed' } : undefined;
    return this.apply(tx, message, status, error);
  }

  /** Sets the status of a message that has no SMS parts (an MMS), with the same events as refresh. */
  async record(tx: Kysely<Database>, messageId: string, status: MessageStatus, error?: { code: string; message: string }): Promise<boolean> {
    const message = await this.messages.on(tx).get(messageId);
    if (!message || message.direction !== 'outbound') return false;
    return this.apply(tx, message, status, error);
  }

  private async apply(tx: Kysely<Database>, message: MessageStatusView, status: MessageStatus, error: { code: string; message: string } | undefined): Promise<boolean> {
    if (status === message.status) return false;
    const now = this.clock.now();
    const at = new Date(now).toISOString();
    await this.messages.on(tx).setStatus(message.id, {
      status,
      at,
      code: error?.code ?? null,
      message: error?.message ?? null,
      sentAt: status === 'sent' || status === 'delivered' ? at : null,
      deliveredAt: status === 'delivered' ? at : null,
    });
    if (!EVENT_STATUSES.has(status)) return false;
    await this.writeEvent(tx, message, status as StatusPayload['status'], error, now);
    return true;
  }

  private async writeEvent(
    tx: Kysely<Database>,
    message: MessageStatusView,
    status: StatusPayload['status'],
    error: { code: string; message: string } | undefined,
    now: number,
  ): Promise<void> {
    const number = this.numbers.get(message.numberId);
    // Without a webhook the event could only ever be dead-lettered.
    if (!number?.webhookUrl) return;
    const payload: StatusPayload = {
      event: 'message.status',
      channel: message.channel,
      message_id: message.id,
      status,
      from: number?.phoneNumber ?? '',
      to: message.contact,
      timestamp: new Date(now).toISOString(),
      error: error ?? null,
    };
    await new OutboxRepository(tx).insert({ id: newId('evt'), numberId: message.numberId, event: payload.event, messageId: message.id, payload: JSON.stringify(payload), now });
  }
}
