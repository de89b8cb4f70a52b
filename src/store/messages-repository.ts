import { PostgresAdapter, sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Database, MessagePartsTable, MessagesTable } from './sql/database.ts';
import { PreparedQuery } from './sql/prepared-query.ts';
import { earliestDueAt } from './sql/earliest-due.ts';
import { afterCommit } from './sql/transaction-guard.ts';

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

/** The message columns a read returns (toMessage's input). */
export const MESSAGE_READ_COLUMNS = [
  'id',
  'number_id',
  'direction',
  'channel',
  'contact',
  'body',
  'media',
  'status',
  'encoding',
  'segments',
  'partial',
  'missing_parts',
  'error_code',
  'error_message',
  'reply_to',
  'api_key_id',
  'created_at',
  'updated_at',
  'sent_at',
  'delivered_at',
  'data',
  'ports',
] as const satisfies ReadonlyArray<keyof MessagesTable>;

/** The same columns as SQL text (the conversation thread selects them too). */
export const READ_COLUMNS = MESSAGE_READ_COLUMNS.join(', ');

export type MessageRow = Pick<Selectable<MessagesTable>, (typeof MESSAGE_READ_COLUMNS)[number]>;

const PART_COLUMNS = [
  'message_id',
  'seq',
  'pdu',
  'tpdu_length',
  'status',
  'line_id',
  'mr',
  'attempts',
  'next_attempt_at',
  'error_code',
  'error_message',
  'sent_at',
  'report_status',
  'report_at',
  'resubmitted_after_restart',
] as const satisfies ReadonlyArray<keyof MessagePartsTable>;

const PART_COLUMNS_SQL = sql.raw(PART_COLUMNS.join(', '));

type PartRow = Selectable<MessagePartsTable>;

// The schema's CHECK constraints hold these columns to the unions; the generated types say string.
export const toMessage = (r: MessageRow): MessageRecord => ({
  id: r.id,
  numberId: r.number_id,
  direction: r.direction as MessageRecord['direction'],
  channel: r.channel as MessageRecord['channel'],
  contact: r.contact,
  body: r.body,
  media: JSON.parse(r.media) as string[],
  status: r.status as MessageStatus,
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
  status: r.status as PartStatus,
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

/** Whether the executor talks to PostgreSQL (where a claim's SQL differs from SQLite's). */
export function onPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Who hears of message changes (the dashboard's live feed, MCP's message events). One feed is
 * shared by every MessagesRepository built from the same root (see `on`), so a write through a
 * repository built on a transaction is heard like one through the root. On a cluster the
 * gateway's ChangeRelay (src/cluster) sets `publish` and calls `deliver` and `resync`, so the
 * listeners hear of every node's changes.
 */
export class MessageChanges {
  private readonly listeners = new Set<(id: string) => void>();
  private readonly resyncListeners = new Set<() => void>();
  /** Told every change this node commits, for the other nodes (unset on SQLite: no cost there). */
  publish: ((id: string) => void) | undefined;

  listen(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Told when changes may have been missed (the cluster's bus lost notifications). */
  listenResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /** Told after the writing transaction commits (see afterCommit); nothing if it rolls back. */
  emit(id: string): void {
    if (this.listeners.size === 0 && this.publish === undefined) return;
    afterCommit(() => {
      this.publish?.(id);
      this.deliver(id);
    });
  }

  /** A change committed elsewhere (another node), or here: told to this node's listeners. */
  deliver(id: string): void {
    for (const listener of this.listeners) listener(id);
  }

  resync(): void {
    for (const listener of this.resyncListeners) listener();
  }
}

/** The send path's two inserts, compiled once (see PreparedQuery). */
const MESSAGE_INSERT_COLUMNS = [
  'id', 'number_id', 'direction', 'channel', 'contact', 'body', 'media', 'status', 'encoding', 'segments', 'partial', 'missing_parts', 'reply_to', 'api_key_id', 'created_at', 'updated_at',
] as const;
type MessageInsert = Required<Pick<Insertable<MessagesTable>, (typeof MESSAGE_INSERT_COLUMNS)[number]>>;
const INSERT_MESSAGE = new PreparedQuery(
  MESSAGE_INSERT_COLUMNS,
  (db: Kysely<Database>, row: MessageInsert) => db.insertInto('messages').values(row),
);
const PART_INSERT_COLUMNS = ['message_id', 'seq', 'pdu', 'tpdu_length', 'line_id', 'next_attempt_at'] as const;
type PartInsert = Required<Pick<Insertable<MessagePartsTable>, (typeof PART_INSERT_COLUMNS)[number]>>;
const INSERT_PART = new PreparedQuery(
  PART_INSERT_COLUMNS,
  (db: Kysely<Database>, row: PartInsert) => db.insertInto('message_parts').values({ ...row, status: 'queued' }),
);

/** The fields of a message its status and status events are made from. */
export type MessageStatusView = Pick<MessageRecord, 'id' | 'numberId' | 'direction' | 'channel' | 'contact' | 'status'>;

/** A message's status fields beside each of its parts (one row with null part fields when it has none). */
const STATUS_OF = new PreparedQuery(['messageId'] as const, (db: Kysely<Database>, k: { messageId: string }) =>
  db
    .selectFrom('messages as m')
    .leftJoin('message_parts as p', 'p.message_id', 'm.id')
    .select(['m.number_id as m_number_id', 'm.direction as m_direction', 'm.channel as m_channel', 'm.contact as m_contact', 'm.status as m_status'])
    .select(PART_COLUMNS.map((c) => `p.${c}` as const))
    .where('m.id', '=', k.messageId)
    .orderBy('p.seq'),
);

/**
 * Messages (both directions) and the parts of outbound ones. Cheap to build: a service makes one
 * on its transaction with `messages.on(tx)`, which keeps the change feed.
 */
export class MessagesRepository {
  private readonly postgres: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly changes: MessageChanges = new MessageChanges(),
  ) {
    this.postgres = onPostgres(db);
  }

  /** This repository on another executor (a transaction), telling the same listeners. */
  on(db: Kysely<Database>): MessagesRepository {
    return new MessagesRepository(db, this.changes);
  }

  /**
   * Calls `listener` with the id of every message inserted or changed through this repository
   * (or one made from it with `on`), until the returned function is called. It is told once the
   * change's transaction has committed; on a cluster, also of the changes other nodes commit.
   */
  onChange(listener: (id: string) => void): () => void {
    return this.changes.listen(listener);
  }

  /** Calls `listener` when changes may have been missed (a cluster's bus lost notifications): read again. */
  onResync(listener: () => void): () => void {
    return this.changes.listenResync(listener);
  }

  /** The change feed itself, for the cluster's relay (src/cluster ChangeRelay). */
  feed(): MessageChanges {
    return this.changes;
  }

  async insert(
    m: Pick<MessageRecord, 'id' | 'numberId' | 'direction' | 'channel' | 'contact' | 'body' | 'media' | 'status' | 'encoding' | 'segments' | 'createdAt'> &
      Partial<Pick<MessageRecord, 'partial' | 'missingParts' | 'replyTo' | 'apiKeyId'>>,
  ): Promise<void> {
    await INSERT_MESSAGE.execute(this.db, {
      id: m.id,
      number_id: m.numberId,
      direction: m.direction,
      channel: m.channel,
      contact: m.contact,
      body: m.body,
      media: JSON.stringify(m.media),
      status: m.status,
      encoding: m.encoding,
      segments: m.segments,
      partial: m.partial ? 1 : 0,
      missing_parts: m.missingParts ? JSON.stringify(m.missingParts) : null,
      reply_to: m.replyTo ?? null,
      api_key_id: m.apiKeyId ?? null,
      created_at: m.createdAt,
      updated_at: m.createdAt,
    });
    this.changes.emit(m.id);
  }

  /** Stores a received message; false when one with the same dedupe key is already stored. */
  async insertInbound(
    m: Pick<MessageRecord, 'id' | 'numberId' | 'channel' | 'contact' | 'body' | 'media' | 'encoding' | 'segments' | 'partial' | 'createdAt'> & {
      missingParts: number[];
      dedupeKey: string;
    } & Partial<Pick<MessageRecord, 'data' | 'ports'>>,
  ): Promise<boolean> {
    const row = await this.db
      .insertInto('messages')
      .values({
        id: m.id,
        number_id: m.numberId,
        direction: 'inbound',
        channel: m.channel,
        contact: m.contact,
        body: m.body,
        media: JSON.stringify(m.media),
        status: 'received',
        encoding: m.encoding,
        segments: m.segments,
        partial: m.partial ? 1 : 0,
        missing_parts: m.missingParts.length > 0 ? JSON.stringify(m.missingParts) : null,
        created_at: m.createdAt,
        updated_at: m.createdAt,
        dedupe_key: m.dedupeKey,
        data: m.data ? Buffer.from(m.data) : null,
        ports: m.ports ? JSON.stringify({ source: m.ports.source, destination: m.ports.destination }) : null,
      })
      // The unique index on dedupe_key is partial (WHERE dedupe_key IS NOT NULL): the conflict
      // target names its predicate so both dialects infer that index.
      .onConflict((oc) => oc.column('dedupe_key').where('dedupe_key', 'is not', null).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) this.changes.emit(m.id);
    return row !== undefined;
  }

  /** Keeps a PDU the decoder refused; false when this line already kept the same one. */
  async recordUndecodable(p: UndecodablePdu): Promise<boolean> {
    const res = await this.db
      .insertInto('sms_undecodable')
      .values({ line_id: p.lineId, pdu: p.pdu, error_code: p.errorCode, error_offset: p.errorOffset, reason: p.reason, received_at: p.receivedAt })
      .onConflict((oc) => oc.columns(['line_id', 'pdu']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** A part in line to send; `queuedAt` (ms) places it in the first-come, first-served queue. */
  async insertPart(p: NewPart): Promise<void> {
    await this.insertParts([p]);
  }

  /** Several parts in one statement (a message's parts: one round trip on the send path). */
  async insertParts(parts: readonly NewPart[]): Promise<void> {
    if (parts.length === 0) return;
    // A message's parts are usually one: that statement is prepared; more go as one built statement.
    const [only] = parts;
    if (parts.length === 1 && only) {
      await INSERT_PART.execute(this.db, { message_id: only.messageId, seq: only.seq, pdu: only.pdu, tpdu_length: only.tpduLength, line_id: only.lineId, next_attempt_at: only.queuedAt });
      return;
    }
    await this.db
      .insertInto('message_parts')
      .values(
        parts.map((p) => ({
          message_id: p.messageId,
          seq: p.seq,
          pdu: p.pdu,
          tpdu_length: p.tpduLength,
          status: 'queued',
          line_id: p.lineId,
          next_attempt_at: p.queuedAt,
        })),
      )
      .execute();
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const row = await this.db.selectFrom('messages').select(MESSAGE_READ_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toMessage(row);
  }

  async getByReplyTo(eventId: string): Promise<MessageRecord | undefined> {
    const row = await this.db.selectFrom('messages').select(MESSAGE_READ_COLUMNS).where('reply_to', '=', eventId).executeTakeFirst();
    return row && toMessage(row);
  }

  async list(numberId: string, f: MessageFilter): Promise<MessageRecord[]> {
    let q = this.db.selectFrom('messages').select(MESSAGE_READ_COLUMNS).where('number_id', '=', numberId);
    if (f.direction !== undefined) q = q.where('direction', '=', f.direction);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.contact !== undefined) q = q.where('contact', '=', f.contact);
    if (f.since !== undefined) q = q.where('created_at', '>=', f.since);
    if (f.until !== undefined) q = q.where('created_at', '<', f.until);
    const before = f.before;
    if (before !== undefined) {
      q = q.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
    return rows.map(toMessage);
  }

  /**
   * What an outbound message's status is made from, in one query: the message's own status and
   * the fields its status events name, and its parts (none for an MMS).
   */
  async statusOf(messageId: string): Promise<{ message: MessageStatusView; parts: PartRecord[] } | undefined> {
    const rows = await STATUS_OF.execute(this.db, { messageId });
    const first = rows[0];
    if (!first) return undefined;
    const message: MessageStatusView = { id: messageId, numberId: first.m_number_id, direction: first.m_direction as MessageRecord['direction'], channel: first.m_channel as MessageRecord['channel'], contact: first.m_contact, status: first.m_status as MessageStatus };
    return { message, parts: first.seq === null ? [] : rows.map((r) => toPart(r as PartRow)) };
  }

  async parts(messageId: string): Promise<PartRecord[]> {
    const rows = await this.db.selectFrom('message_parts').select(PART_COLUMNS).where('message_id', '=', messageId).orderBy('seq').execute();
    return rows.map(toPart);
  }

  /**
   * Marks up to `limit` due parts of one line 'sending' and returns them, first queued first.
   * One statement; on PostgreSQL the picked rows are locked SKIP LOCKED, so two nodes claiming
   * at once never get the same part (SQLite has one writer at a time).
   */
  async claimDueParts(lineId: string, now: number, limit: number): Promise<PartRecord[]> {
    // PostgreSQL: the picked rows in a MATERIALIZED CTE. As an IN (subquery) the planner may
    // rescan the subquery per row updated, and SKIP LOCKED then skips the rows this statement
    // has just updated and picks more: LIMIT would not hold.
    const claim = this.postgres
      ? sql<PartRow>`WITH picked AS MATERIALIZED (
            SELECT message_id, seq FROM message_parts
            WHERE line_id = ${lineId} AND status = 'queued' AND next_attempt_at <= ${now}
            ORDER BY next_attempt_at, message_id, seq LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          UPDATE message_parts SET status = 'sending', attempts = message_parts.attempts + 1
          FROM picked WHERE message_parts.message_id = picked.message_id AND message_parts.seq = picked.seq
            AND message_parts.status = 'queued'
          RETURNING ${sql.raw(PART_COLUMNS.map((c) => `message_parts.${c}`).join(', '))}`
      : sql<PartRow>`UPDATE message_parts SET status = 'sending', attempts = attempts + 1
          WHERE rowid IN (SELECT rowid FROM message_parts INDEXED BY message_parts_due
                          WHERE line_id = ${lineId} AND status = 'queued' AND next_attempt_at <= ${now}
                          ORDER BY next_attempt_at, rowid LIMIT ${limit})
          RETURNING ${PART_COLUMNS_SQL}`;
    const res = await claim.execute(this.db);
    // RETURNING gives no order: put them back in queue order.
    return res.rows.map(toPart).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  async nextPartDueAt(lineIds: readonly string[]): Promise<number | undefined> {
    return earliestDueAt(this.db, 'message_parts', 'queued', lineIds);
  }

  /** Puts a claimed part back without counting the attempt (its line went away meanwhile). */
  async deferPart(messageId: string, seq: number, at: number): Promise<void> {
    await this.db
      .updateTable('message_parts')
      .set((eb) => ({ status: 'queued', attempts: eb('attempts', '-', 1), next_attempt_at: at }))
      .where('message_id', '=', messageId)
      .where('seq', '=', seq)
      .execute();
  }

  /**
   * Commits, before AT+CMGS is written, that the modem may accept this part from now on: after
   * a crash it is the one part per line whose fate the store cannot know.
   */
  async markPartSubmitting(messageId: string, seq: number): Promise<void> {
    await this.db
      .updateTable('message_parts')
      .set({ status: 'submitting' })
      .where('message_id', '=', messageId)
      .where('seq', '=', seq)
      .where('status', '=', 'sending')
      .execute();
  }

  async markPartSent(messageId: string, seq: number, mr: number, at: string): Promise<void> {
    await this.updatePart(messageId, seq, { status: 'sent', mr, sent_at: at, error_code: null, error_message: null });
  }

  async retryPart(messageId: string, seq: number, at: number, code: string, message: string): Promise<void> {
    await this.updatePart(messageId, seq, { status: 'queued', next_attempt_at: at, error_code: code, error_message: message });
  }

  async failPart(messageId: string, seq: number, code: string, message: string): Promise<void> {
    await this.updatePart(messageId, seq, { status: 'failed', error_code: code, error_message: message });
  }

  /**
   * Parts sent on `lineId` with this TP-MR that no report has settled yet, oldest first. MRs
   * wrap at 256, so there may be several: the caller tells them apart by recipient and time.
   */
  async awaitingReport(lineId: string, mr: number): Promise<AwaitingReportPart[]> {
    const rows = await this.db
      .selectFrom('message_parts as p')
      .innerJoin('messages as m', 'm.id', 'p.message_id')
      .select(PART_COLUMNS.map((c) => `p.${c}` as const))
      .select('m.contact')
      .where('p.line_id', '=', lineId)
      .where('p.mr', '=', mr)
      .where('p.status', '=', 'sent')
      .orderBy('p.sent_at')
      .orderBy('p.message_id')
      .orderBy('p.seq')
      .execute();
    return rows.map((row) => ({ ...toPart(row), contact: row.contact }));
  }

  async recordReport(p: { messageId: string; seq: number; status: PartStatus; raw: number; at: string; code: string | null; message: string | null }): Promise<void> {
    await this.updatePart(p.messageId, p.seq, { status: p.status, report_status: p.raw, report_at: p.at, error_code: p.code, error_message: p.message });
  }

  async setStatus(
    id: string,
    s: { status: MessageStatus; at: string; code?: string | null; message?: string | null; sentAt?: string | null; deliveredAt?: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('messages')
      .set((eb) => ({
        status: s.status,
        updated_at: s.at,
        error_code: s.code ?? null,
        error_message: s.message ?? null,
        sent_at: eb.fn.coalesce('sent_at', sql<string | null>`${s.sentAt ?? null}`),
        delivered_at: eb.fn.coalesce('delivered_at', sql<string | null>`${s.deliveredAt ?? null}`),
      }))
      .where('id', '=', id)
      .execute();
    this.changes.emit(id);
  }

  /**
   * After a restart: parts that were being handed to a modem go back in line. `requeued` never
   * reached the modem; `resubmitted` were being submitted (AT+CMGS) when the process stopped and
   * may already have been accepted: they are sent again (at least once) and marked so. All of
   * them, or on a cluster only those of `lineIds` (the lines this node now holds; another node's
   * in-flight parts are its own). Two statements over disjoint rows: each is atomic on its own,
   * and neither depends on the other.
   */
  async requeueInterrupted(lineIds?: readonly string[]): Promise<{ requeued: number; resubmitted: number }> {
    if (lineIds?.length === 0) return { requeued: 0, resubmitted: 0 };
    const sending = await this.db
      .updateTable('message_parts')
      .set({ status: 'queued' })
      .where('status', '=', 'sending')
      .$if(lineIds !== undefined, (q) => q.where('line_id', 'in', lineIds!))
      .executeTakeFirst();
    const submitting = await this.db
      .updateTable('message_parts')
      .set((eb) => ({ status: 'queued', resubmitted_after_restart: eb('resubmitted_after_restart', '+', 1) }))
      .where('status', '=', 'submitting')
      .$if(lineIds !== undefined, (q) => q.where('line_id', 'in', lineIds!))
      .executeTakeFirst();
    return { requeued: Number(sending.numUpdatedRows), resubmitted: Number(submitting.numUpdatedRows) };
  }

  private async updatePart(messageId: string, seq: number, set: Partial<Omit<PartRow, 'message_id' | 'seq'>>): Promise<void> {
    await this.db.updateTable('message_parts').set(set).where('message_id', '=', messageId).where('seq', '=', seq).execute();
  }
}

export interface NewPart {
  messageId: string;
  seq: number;
  pdu: string;
  tpduLength: number;
  lineId: string;
  queuedAt: number;
}
