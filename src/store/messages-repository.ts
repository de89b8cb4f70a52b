import type { Db } from './db.ts';

export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'received';
/**
 * queued → sending (handed to its line's queue) → submitting (AT+CMGS about to be written) →
 * sent (the modem answered with a TP-MR) → delivered / failed (status report).
 */
export type PartStatus = 'queued' | 'sending' | 'submitting' | 'sent' | 'delivered' | 'failed';

export interface MessageRecord {
  id: string;
  numberId: string;
  direction: 'inbound' | 'outbound';
  channel: 'sms' | 'mms';
  /** The other party: recipient of an outbound message, sender of an inbound one. */
  contact: string;
  body: string;
  media: string[];
  status: MessageStatus;
  encoding: string | null;
  segments: number;
  partial: boolean;
  missingParts: number[] | null;
  errorCode: string | null;
  errorMessage: string | null;
  replyTo: string | null;
  apiKeyId: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  /** The bytes of an inbound 8-bit (data) message, parts joined; null otherwise. */
  data: Uint8Array | null;
  /** The application ports of an inbound port-addressed message. */
  ports: { source: number; destination: number } | null;
}

/** A received PDU the decoder refused, kept for the operator (it is deleted from the modem). */
export interface UndecodablePdu {
  lineId: string;
  pdu: string;
  errorCode: string;
  errorOffset: number;
  reason: string;
  receivedAt: string;
}

export interface PartRecord {
  messageId: string;
  seq: number;
  pdu: string;
  tpduLength: number;
  status: PartStatus;
  lineId: string | null;
  mr: number | null;
  attempts: number;
  nextAttemptAt: number;
  errorCode: string | null;
  errorMessage: string | null;
  sentAt: string | null;
  reportStatus: number | null;
  reportAt: string | null;
  /** Times it was sent again because a restart interrupted its submission (it may have gone out twice). */
  resubmittedAfterRestart: number;
}

/** A sent part still waiting for its status report, with the recipient of its message. */
export interface AwaitingReportPart extends PartRecord {
  contact: string;
}

export interface MessageFilter {
  direction?: 'inbound' | 'outbound' | undefined;
  status?: MessageStatus | undefined;
  contact?: string | undefined;
  /** ISO timestamps, inclusive / exclusive. */
  since?: string | undefined;
  until?: string | undefined;
  /** Continue after this (createdAt, id), newest first. */
  before?: { createdAt: string; id: string } | undefined;
  limit: number;
}

export interface MessageRow {
  id: string;
  number_id: string;
  direction: 'inbound' | 'outbound';
  channel: 'sms' | 'mms';
  contact: string;
  body: string;
  media: string;
  status: MessageStatus;
  encoding: string | null;
  segments: number;
  partial: number;
  missing_parts: string | null;
  error_code: string | null;
  error_message: string | null;
  reply_to: string | null;
  api_key_id: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
  delivered_at: string | null;
  data: Buffer | null;
  ports: string | null;
}

interface PartRow {
  message_id: string;
  seq: number;
  pdu: string;
  tpdu_length: number;
  status: PartStatus;
  line_id: string | null;
  mr: number | null;
  attempts: number;
  next_attempt_at: number;
  error_code: string | null;
  error_message: string | null;
  sent_at: string | null;
  report_status: number | null;
  report_at: string | null;
  resubmitted_after_restart: number;
}

export const toMessage = (r: MessageRow): MessageRecord => ({
  id: r.id,
  numberId: r.number_id,
  direction: r.direction,
  channel: r.channel,
  contact: r.contact,
  body: r.body,
  media: JSON.parse(r.media) as string[],
  status: r.status,
  encoding: r.encoding,
  segments: r.segments,
  partial: r.partial === 1,
  missingParts: r.missing_parts === null ? null : (JSON.parse(r.missing_parts) as number[]),
  errorCode: r.error_code,
  errorMessage: r.error_message,
  replyTo: r.reply_to,
  apiKeyId: r.api_key_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  sentAt: r.sent_at,
  deliveredAt: r.delivered_at,
  data: r.data === null ? null : new Uint8Array(r.data),
  ports: r.ports === null ? null : (JSON.parse(r.ports) as MessageRecord['ports']),
});

const toPart = (r: PartRow): PartRecord => ({
  messageId: r.message_id,
  seq: r.seq,
  pdu: r.pdu,
  tpduLength: r.tpdu_length,
  status: r.status,
  lineId: r.line_id,
  mr: r.mr,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  sentAt: r.sent_at,
  reportStatus: r.report_status,
  reportAt: r.report_at,
  resubmittedAfterRestart: r.resubmitted_after_restart,
});

const MESSAGE_COLUMNS = `id, number_id, direction, channel, contact, body, media, status, encoding, segments, partial,
  missing_parts, error_code, error_message, reply_to, api_key_id, created_at, updated_at, sent_at, delivered_at`;
/** What a read returns: the written columns and the inbound payload (migration 013). */
/** The columns toMessage reads (the conversation thread selects them too). */
export const READ_COLUMNS = `${MESSAGE_COLUMNS}, data, ports`;
const PART_COLUMNS = `message_id, seq, pdu, tpdu_length, status, line_id, mr, attempts, next_attempt_at, error_code,
  error_message, sent_at, report_status, report_at, resubmitted_after_restart`;

/** Messages (both directions) and the parts of outbound ones. */
export class MessagesRepository {
  private readonly stmts;
  private readonly changeListeners = new Set<(id: string) => void>();

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (@id, @numberId, @direction, @channel, @contact, @body, @media,
          @status, @encoding, @segments, @partial, @missingParts, NULL, NULL, @replyTo, @apiKeyId, @createdAt, @createdAt,
          NULL, NULL)`,
      ),
      insertInbound: db.prepare(
        `INSERT INTO messages (${MESSAGE_COLUMNS}, dedupe_key, data, ports) VALUES (@id, @numberId, 'inbound', @channel, @contact, @body,
          @media, 'received', @encoding, @segments, @partial, @missingParts, NULL, NULL, NULL, NULL, @createdAt, @createdAt,
          NULL, NULL, @dedupeKey, @data, @ports) ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
      ),
      insertPart: db.prepare(
        `INSERT INTO message_parts (message_id, seq, pdu, tpdu_length, status, line_id, next_attempt_at)
         VALUES (@messageId, @seq, @pdu, @tpduLength, 'queued', @lineId, @queuedAt)`,
      ),
      get: db.prepare<[string], MessageRow>(`SELECT ${READ_COLUMNS} FROM messages WHERE id = ?`),
      byReplyTo: db.prepare<[string], MessageRow>(`SELECT ${READ_COLUMNS} FROM messages WHERE reply_to = ? AND reply_to IS NOT NULL`),
      list: db.prepare<Record<string, unknown>, MessageRow>(
        `SELECT ${READ_COLUMNS} FROM messages
         WHERE number_id = @numberId
           AND (@direction IS NULL OR direction = @direction)
           AND (@status IS NULL OR status = @status)
           AND (@contact IS NULL OR contact = @contact)
           AND (@since IS NULL OR created_at >= @since)
           AND (@until IS NULL OR created_at < @until)
           AND (@beforeAt IS NULL OR created_at < @beforeAt OR (created_at = @beforeAt AND id < @beforeId))
         ORDER BY created_at DESC, id DESC LIMIT @limit`,
      ),
      undecodable: db.prepare(
        `INSERT INTO sms_undecodable (line_id, pdu, error_code, error_offset, reason, received_at)
         VALUES (@lineId, @pdu, @errorCode, @errorOffset, @reason, @receivedAt) ON CONFLICT (line_id, pdu) DO NOTHING`,
      ),
      parts: db.prepare<[string], PartRow>(`SELECT ${PART_COLUMNS} FROM message_parts WHERE message_id = ? ORDER BY seq`),
      claimParts: db.prepare<[string, number, number], PartRow>(
        `UPDATE message_parts SET status = 'sending', attempts = attempts + 1
         WHERE rowid IN (SELECT rowid FROM message_parts INDEXED BY message_parts_due
                         WHERE line_id = ? AND status = 'queued' AND next_attempt_at <= ?
                         ORDER BY next_attempt_at, rowid LIMIT ?)
         RETURNING ${PART_COLUMNS}`,
      ),
      nextPartDue: db.prepare<[string], { t: number | null }>(
        `SELECT MIN(next_attempt_at) AS t FROM message_parts
         WHERE status = 'queued' AND line_id IN (SELECT value FROM json_each(?))`,
      ),
      defer: db.prepare(
        `UPDATE message_parts SET status = 'queued', attempts = attempts - 1, next_attempt_at = @at
         WHERE message_id = @messageId AND seq = @seq`,
      ),
      partSubmitting: db.prepare(
        `UPDATE message_parts SET status = 'submitting' WHERE message_id = @messageId AND seq = @seq AND status = 'sending'`,
      ),
      partSent: db.prepare(
        `UPDATE message_parts SET status = 'sent', mr = @mr, sent_at = @at, error_code = NULL, error_message = NULL
         WHERE message_id = @messageId AND seq = @seq`,
      ),
      partRetry: db.prepare(
        `UPDATE message_parts SET status = 'queued', next_attempt_at = @at, error_code = @code, error_message = @message
         WHERE message_id = @messageId AND seq = @seq`,
      ),
      partFailed: db.prepare(
        `UPDATE message_parts SET status = 'failed', error_code = @code, error_message = @message
         WHERE message_id = @messageId AND seq = @seq`,
      ),
      awaitingReport: db.prepare<[string, number], PartRow & { contact: string }>(
        `SELECT ${PART_COLUMNS}, (SELECT contact FROM messages WHERE id = message_id) AS contact
         FROM message_parts INDEXED BY message_parts_awaiting_report
         WHERE line_id = ? AND mr = ? AND status = 'sent' ORDER BY sent_at, rowid`,
      ),
      partReport: db.prepare(
        `UPDATE message_parts SET status = @status, report_status = @raw, report_at = @at,
           error_code = @code, error_message = @message WHERE message_id = @messageId AND seq = @seq`,
      ),
      setStatus: db.prepare(
        `UPDATE messages SET status = @status, updated_at = @at, error_code = @code, error_message = @message,
           sent_at = COALESCE(sent_at, @sentAt), delivered_at = COALESCE(delivered_at, @deliveredAt) WHERE id = @id`,
      ),
      requeueSending: db.prepare(`UPDATE message_parts SET status = 'queued' WHERE status = 'sending'`),
      requeueSubmitting: db.prepare(
        `UPDATE message_parts SET status = 'queued', resubmitted_after_restart = resubmitted_after_restart + 1
         WHERE status = 'submitting'`,
      ),
    };
  }

  /**
   * Calls `listener` with the id of every message inserted or changed through this repository
   * (the dashboard's live feed), until the returned function is called. It may hear of a row
   * whose transaction is then rolled back: readers look the id up and skip what is not there.
   */
  onChange(listener: (id: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(id: string): void {
    for (const listener of this.changeListeners) listener(id);
  }

  insert(
    m: Pick<MessageRecord, 'id' | 'numberId' | 'direction' | 'channel' | 'contact' | 'body' | 'media' | 'status' | 'encoding' | 'segments' | 'createdAt'> &
      Partial<Pick<MessageRecord, 'partial' | 'missingParts' | 'replyTo' | 'apiKeyId'>>,
  ): void {
    this.stmts.insert.run({
      ...m,
      media: JSON.stringify(m.media),
      partial: m.partial ? 1 : 0,
      missingParts: m.missingParts ? JSON.stringify(m.missingParts) : null,
      replyTo: m.replyTo ?? null,
      apiKeyId: m.apiKeyId ?? null,
    });
    this.changed(m.id);
  }

  /** Stores a received message; false when one with the same dedupe key is already stored. */
  insertInbound(
    m: Pick<MessageRecord, 'id' | 'numberId' | 'channel' | 'contact' | 'body' | 'media' | 'encoding' | 'segments' | 'partial' | 'createdAt'> & {
      missingParts: number[];
      dedupeKey: string;
    } & Partial<Pick<MessageRecord, 'data' | 'ports'>>,
  ): boolean {
    const inserted =
      this.stmts.insertInbound.run({
        ...m,
        media: JSON.stringify(m.media),
        partial: m.partial ? 1 : 0,
        missingParts: m.missingParts.length > 0 ? JSON.stringify(m.missingParts) : null,
        data: m.data ? Buffer.from(m.data) : null,
        ports: m.ports ? JSON.stringify({ source: m.ports.source, destination: m.ports.destination }) : null,
      }).changes === 1;
    if (inserted) this.changed(m.id);
    return inserted;
  }

  /** Keeps a PDU the decoder refused; false when this line already kept the same one. */
  recordUndecodable(p: UndecodablePdu): boolean {
    return this.stmts.undecodable.run(p).changes === 1;
  }

  /** A part in line to send; `queuedAt` (ms) places it in the first-come, first-served queue. */
  insertPart(p: { messageId: string; seq: number; pdu: string; tpduLength: number; lineId: string; queuedAt: number }): void {
    this.stmts.insertPart.run(p);
  }

  get(id: string): MessageRecord | undefined {
    const row = this.stmts.get.get(id);
    return row && toMessage(row);
  }

  getByReplyTo(eventId: string): MessageRecord | undefined {
    const row = this.stmts.byReplyTo.get(eventId);
    return row && toMessage(row);
  }

  list(numberId: string, f: MessageFilter): MessageRecord[] {
    return this.stmts.list
      .all({
        numberId,
        direction: f.direction ?? null,
        status: f.status ?? null,
        contact: f.contact ?? null,
        since: f.since ?? null,
        until: f.until ?? null,
        beforeAt: f.before?.createdAt ?? null,
        beforeId: f.before?.id ?? null,
        limit: f.limit,
      })
      .map(toMessage);
  }

  parts(messageId: string): PartRecord[] {
    return this.stmts.parts.all(messageId).map(toPart);
  }

  /** Marks up to `limit` due parts of one line 'sending' and returns them, first queued first. */
  claimDueParts(lineId: string, now: number, limit: number): PartRecord[] {
    return this.stmts.claimParts.all(lineId, now, limit).map(toPart);
  }

  nextPartDueAt(lineIds: readonly string[]): number | undefined {
    return this.stmts.nextPartDue.get(JSON.stringify(lineIds))?.t ?? undefined;
  }

  /** Puts a claimed part back without counting the attempt (its line went away meanwhile). */
  deferPart(messageId: string, seq: number, at: number): void {
    this.stmts.defer.run({ messageId, seq, at });
  }

  /**
   * Commits, before AT+CMGS is written, that the modem may accept this part from now on: after
   * a crash it is the one part per line whose fate the store cannot know.
   */
  markPartSubmitting(messageId: string, seq: number): void {
    this.stmts.partSubmitting.run({ messageId, seq });
  }

  markPartSent(messageId: string, seq: number, mr: number, at: string): void {
    this.stmts.partSent.run({ messageId, seq, mr, at });
  }

  retryPart(messageId: string, seq: number, at: number, code: string, message: string): void {
    this.stmts.partRetry.run({ messageId, seq, at, code, message });
  }

  failPart(messageId: string, seq: number, code: string, message: string): void {
    this.stmts.partFailed.run({ messageId, seq, code, message });
  }

  /**
   * Parts sent on `lineId` with this TP-MR that no report has settled yet, oldest first. MRs
   * wrap at 256, so there may be several: the caller tells them apart by recipient and time.
   */
  awaitingReport(lineId: string, mr: number): AwaitingReportPart[] {
    return this.stmts.awaitingReport.all(lineId, mr).map((row) => ({ ...toPart(row), contact: row.contact }));
  }

  recordReport(p: { messageId: string; seq: number; status: PartStatus; raw: number; at: string; code: string | null; message: string | null }): void {
    this.stmts.partReport.run(p);
  }

  setStatus(
    id: string,
    s: { status: MessageStatus; at: string; code?: string | null; message?: string | null; sentAt?: string | null; deliveredAt?: string | null },
  ): void {
    this.stmts.setStatus.run({
      id,
      status: s.status,
      at: s.at,
      code: s.code ?? null,
      message: s.message ?? null,
      sentAt: s.sentAt ?? null,
      deliveredAt: s.deliveredAt ?? null,
    });
    this.changed(id);
  }

  /**
   * After a restart: parts that were being handed to a modem go back in line. `requeued` never
   * reached the modem; `resubmitted` were being submitted (AT+CMGS) when the process stopped and
   * may already have been accepted: they are sent again (at least once) and marked so.
   */
  requeueInterrupted(): { requeued: number; resubmitted: number } {
    return this.db.transaction(() => ({
      requeued: this.stmts.requeueSending.run().changes,
      resubmitted: this.stmts.requeueSubmitting.run().changes,
    }))();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
