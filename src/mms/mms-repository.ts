/** The MMS tables: media rows, outbound sends, inbound notifications (migrations 004, 012) and kept raw pushes. */
import { PostgresAdapter, sql, type Kysely, type Selectable } from 'kysely';
import type { Database, MediaTable, MmsInboundTable, MmsOutboundTable } from '../store/sql/database.ts';
import { earliestDueAt } from '../store/sql/earliest-due.ts';

export type OutboundMmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';

export interface OutboundMms {
  messageId: string;
  lineId: string;
  transactionId: string;
  status: OutboundMmsStatus;
  attempts: number;
  nextAttemptAt: number;
  mmsMessageId: string | null;
}

/** A WAP push kept because it could not be used (mms_raw_pushes). */
export interface RawPush {
  id: number;
  lineId: string;
  /** undecodable | incomplete | partial */
  reason: string;
  errorCode: string | null;
  /** Byte offset where decoding stopped. */
  errorAt: number | null;
  data: Uint8Array;
  createdAt: number;
}

export interface UnfetchableNotification {
  id: number;
  lineId: string;
  sender: string | null;
  size: number | null;
  createdAt: number;
}

export interface InboundNotification {
  id: number;
  lineId: string;
  transactionId: string;
  contentLocation: string;
  sender: string | null;
  size: number | null;
  attempts: number;
}

export interface MediaRow {
  id: string;
  sha256: string;
  contentType: string;
  size: number;
  name: string | null;
  messageId: string | null;
  createdAt: number;
  expiresAt: number | null;
}

const OUT_COLS = ['message_id', 'line_id', 'transaction_id', 'status', 'attempts', 'next_attempt_at', 'mms_message_id'] as const;
const IN_COLS = ['id', 'line_id', 'transaction_id', 'content_location', 'sender', 'size', 'attempts'] as const;

type OutboundRow = Pick<Selectable<MmsOutboundTable>, (typeof OUT_COLS)[number]>;
type InboundRow = Pick<Selectable<MmsInboundTable>, (typeof IN_COLS)[number]>;

const toOutbound = (r: OutboundRow): OutboundMms => ({
  messageId: r.message_id,
  lineId: r.line_id,
  transactionId: r.transaction_id,
  // The table's CHECK constraint holds it to these values.
  status: r.status as OutboundMmsStatus,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  mmsMessageId: r.mms_message_id,
});
const toInbound = (r: InboundRow): InboundNotification => ({
  id: r.id,
  lineId: r.line_id,
  transactionId: r.transaction_id,
  contentLocation: r.content_location,
  sender: r.sender,
  size: r.size,
  attempts: r.attempts,
});
const toMedia = (r: Selectable<MediaTable>): MediaRow => ({
  id: r.id,
  sha256: r.sha256,
  contentType: r.content_type,
  size: r.size,
  name: r.name,
  messageId: r.message_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/**
 * One implementation for SQLite and PostgreSQL. Cheap to build: construct it on the executor the
 * work runs on, the store's root one or a transaction's (`new MmsRepository(tx)`).
 */
export class MmsRepository {
  /** Claims differ on PostgreSQL: they skip rows another node is claiming instead of waiting. */
  private readonly postgres: boolean;

  constructor(private readonly db: Kysely<Database>) {
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  async queueOutbound(messageId: string, lineId: string, transactionId: string): Promise<void> {
    await this.db.insertInto('mms_outbound').values({ message_id: messageId, line_id: lineId, transaction_id: transactionId, status: 'queued' }).execute();
  }

  /**
   * Marks up to `limit` due sends of these lines `sending` and returns them. One statement whose
   * WHERE re-checks `queued`: two nodes picking the same rows cannot both change them (on
   * PostgreSQL the second re-reads a row it waited for and finds it no longer queued), and on
   * PostgreSQL SKIP LOCKED lets the second take other rows instead of waiting.
   */
  async claimOutbound(now: number, lineIds: readonly string[], limit: number): Promise<OutboundMms[]> {
    if (lineIds.length === 0 || limit <= 0) return [];
    // The picked rows in a MATERIALIZED CTE: as an IN (subquery) PostgreSQL may rescan it per row
    // updated, and SKIP LOCKED then picks rows past LIMIT (see MessagesRepository.claimDueParts).
    const rows = await this.db
      .with(
        (cte) => cte('picked').materialized(),
        (db) =>
          db
            .selectFrom('mms_outbound')
            .select('message_id as picked_id')
            .where('status', '=', 'queued')
            .where('next_attempt_at', '<=', now)
            .where('line_id', 'in', lineIds)
            .orderBy('next_attempt_at')
            .limit(limit)
            .$if(this.postgres, (q) => q.forUpdate().skipLocked()),
      )
      .updateTable('mms_outbound')
      .from('picked')
      .set((eb) => ({ status: 'sending', attempts: eb('mms_outbound.attempts', '+', 1) }))
      .whereRef('mms_outbound.message_id', '=', 'picked.picked_id')
      .where('mms_outbound.status', '=', 'queued')
      .returning(OUT_COLS.map((c) => `mms_outbound.${c}` as const))
      .execute();
    return rows.map(toOutbound).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  async nextOutboundDueAt(lineIds: readonly string[]): Promise<number | undefined> {
    return earliestDueAt(this.db, 'mms_outbound', 'queued', lineIds);
  }

  async setOutbound(
    messageId: string,
    o: { status: OutboundMmsStatus; next?: number; mmsMessageId?: string | null; code?: string | null; message?: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('mms_outbound')
      .set((eb) => ({
        status: o.status,
        next_attempt_at: o.next ?? 0,
        mms_message_id: eb.fn.coalesce(eb.val(o.mmsMessageId ?? null), eb.ref('mms_message_id')),
        error_code: o.code ?? null,
        error_message: o.message ?? null,
      }))
      .where('message_id', '=', messageId)
      .execute();
  }

  async deferOutbound(messageId: string, at: number): Promise<void> {
    await this.db
      .updateTable('mms_outbound')
      .set((eb) => ({ status: 'queued', attempts: eb('attempts', '-', 1), next_attempt_at: at }))
      .where('message_id', '=', messageId)
      .execute();
  }

  async outboundByMmsId(lineId: string, mmsMessageId: string): Promise<OutboundMms | undefined> {
    const r = await this.db.selectFrom('mms_outbound').select(OUT_COLS).where('line_id', '=', lineId).where('mms_message_id', '=', mmsMessageId).executeTakeFirst();
    return r && toOutbound(r);
  }

  /** MMS sends a stopped process left in flight, back in the queue: all, or only those of `lineIds` (this node's lines on a cluster). */
  async requeueInterrupted(lineIds?: readonly string[]): Promise<number> {
    if (lineIds?.length === 0) return 0;
    const res = await this.db
      .updateTable('mms_outbound')
      .set({ status: 'queued' })
      .where('status', '=', 'sending')
      .$if(lineIds !== undefined, (q) => q.where('line_id', 'in', lineIds!))
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /**
   * False when this line already has a notification with this transaction id. `unfetchable`:
   * the line has no MMS configured, so nothing will fetch it (until MMS is configured).
   */
  async insertNotification(n: {
    lineId: string;
    transactionId: string;
    contentLocation: string;
    sender: string | null;
    size: number | null;
    now: number;
    status?: 'pending' | 'unfetchable';
  }): Promise<boolean> {
    const res = await this.db
      .insertInto('mms_inbound')
      .values({
        line_id: n.lineId,
        transaction_id: n.transactionId,
        content_location: n.contentLocation,
        sender: n.sender,
        size: n.size,
        status: n.status ?? 'pending',
        created_at: n.now,
      })
      // UNIQUE (line_id, transaction_id): the MMSC resending a notification is not a new MMS.
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Pending notifications on lines that can no longer fetch (MMS removed from the line, or
   * rows from before `unfetchable` existed) become unfetchable; returns them.
   */
  async strandPending(canFetch: (lineId: string) => boolean): Promise<InboundNotification[]> {
    const pending = await this.db.selectFrom('mms_inbound').select('line_id').distinct().where('status', '=', 'pending').execute();
    const lines = pending.map((r) => r.line_id).filter((l) => !canFetch(l));
    if (lines.length === 0) return [];
    const rows = await this.db
      .updateTable('mms_inbound')
      .set({ status: 'unfetchable' })
      .where('status', '=', 'pending')
      .where('line_id', 'in', lines)
      .returning(IN_COLS)
      .execute();
    return rows.map(toInbound).sort((a, b) => a.id - b.id);
  }

  /** Lines that now have MMS: their unfetchable notifications are fetched after all. */
  async requeueUnfetchable(hasMms: (lineId: string) => boolean): Promise<number> {
    const stuck = await this.db.selectFrom('mms_inbound').select('line_id').distinct().where('status', '=', 'unfetchable').execute();
    const lines = stuck.map((r) => r.line_id).filter(hasMms);
    if (lines.length === 0) return 0;
    const res = await this.db
      .updateTable('mms_inbound')
      .set({ status: 'pending', next_attempt_at: 0, error: null })
      .where('status', '=', 'unfetchable')
      .where('line_id', 'in', lines)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Notifications nothing can fetch (no MMS on their line), newest first, and how many there are. */
  async unfetchable(limit: number): Promise<{ count: number; items: UnfetchableNotification[] }> {
    const [count, rows] = await Promise.all([
      this.db.selectFrom('mms_inbound').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'unfetchable').executeTakeFirst(),
      this.db
        .selectFrom('mms_inbound')
        .select(['id', 'line_id', 'sender', 'size', 'created_at'])
        .where('status', '=', 'unfetchable')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute(),
    ]);
    return {
      count: Number(count?.n ?? 0),
      items: rows.map((r) => ({ id: r.id, lineId: r.line_id, sender: r.sender, size: r.size, createdAt: r.created_at })),
    };
  }

  /** Keeps the bytes of a WAP push that could not be used (undecodable, or not a usable notification). */
  async insertRawPush(p: { lineId: string; reason: string; code: string | null; at: number | null; data: Uint8Array; now: number }): Promise<void> {
    await this.db
      .insertInto('mms_raw_pushes')
      .values({ line_id: p.lineId, reason: p.reason, error_code: p.code, error_at: p.at, data: Buffer.from(p.data), created_at: p.now })
      .execute();
  }

  /** Kept pushes, newest first, and how many there are. */
  async rawPushes(limit: number): Promise<{ count: number; items: RawPush[] }> {
    const [count, rows] = await Promise.all([
      this.db.selectFrom('mms_raw_pushes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
      this.db.selectFrom('mms_raw_pushes').selectAll().orderBy('id', 'desc').limit(limit).execute(),
    ]);
    return {
      count: Number(count?.n ?? 0),
      items: rows.map((r) => ({
        id: r.id,
        lineId: r.line_id,
        reason: r.reason,
        errorCode: r.error_code,
        errorAt: r.error_at,
        data: new Uint8Array(r.data),
        createdAt: r.created_at,
      })),
    };
  }

  /** Due notifications of these lines, oldest first, without claiming them (see claimNotifications). */
  async dueNotifications(now: number, lineIds: readonly string[], limit: number): Promise<InboundNotification[]> {
    if (lineIds.length === 0 || limit <= 0) return [];
    const rows = await this.dueIn(now, lineIds).select(IN_COLS).orderBy('id').limit(limit).execute();
    return rows.map(toInbound);
  }

  /**
   * Takes up to `limit` due notifications of these lines for fetching: their attempts rise by one
   * and their next attempt moves to `retryAt`, so a fetch cut short by a crash is retried then.
   * Race-free between nodes the same way as claimOutbound: the WHERE re-checks that each row is
   * still due, so a row another node just claimed (its next attempt moved) is not taken again.
   * Returns them with the attempt count they now have.
   */
  async claimNotifications(now: number, lineIds: readonly string[], limit: number, retryAt: number): Promise<InboundNotification[]> {
    if (lineIds.length === 0 || limit <= 0) return [];
    const rows = await this.db
      .with(
        (cte) => cte('picked').materialized(),
        () =>
          this.dueIn(now, lineIds)
            .select('id as picked_id')
            .orderBy('id')
            .limit(limit)
            .$if(this.postgres, (q) => q.forUpdate().skipLocked()),
      )
      .updateTable('mms_inbound')
      .from('picked')
      .set((eb) => ({ attempts: eb('mms_inbound.attempts', '+', 1), next_attempt_at: retryAt }))
      .whereRef('mms_inbound.id', '=', 'picked.picked_id')
      .where('mms_inbound.status', '=', 'pending')
      .where('mms_inbound.next_attempt_at', '<=', now)
      .returning(IN_COLS.map((c) => `mms_inbound.${c}` as const))
      .execute();
    return rows.map(toInbound).sort((a, b) => a.id - b.id);
  }

  async nextNotificationDueAt(lineIds: readonly string[]): Promise<number | undefined> {
    return earliestDueAt(this.db, 'mms_inbound', 'pending', lineIds);
  }

  async setNotification(
    id: number,
    o: { status: 'pending' | 'done' | 'failed'; attempts: number; next?: number; messageId?: string | null; error?: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('mms_inbound')
      .set({ status: o.status, attempts: o.attempts, next_attempt_at: o.next ?? 0, message_id: o.messageId ?? null, error: o.error ?? null })
      .where('id', '=', id)
      .execute();
  }

  async insertMedia(m: MediaRow): Promise<void> {
    await this.db
      .insertInto('media')
      .values({
        id: m.id,
        sha256: m.sha256,
        content_type: m.contentType,
        size: m.size,
        name: m.name,
        message_id: m.messageId,
        created_at: m.createdAt,
        expires_at: m.expiresAt,
      })
      .execute();
  }

  async media(id: string): Promise<MediaRow | undefined> {
    const r = await this.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toMedia(r);
  }

  async linkMedia(id: string, messageId: string): Promise<void> {
    await this.db.updateTable('media').set({ message_id: messageId }).where('id', '=', id).execute();
  }

  async expiredMedia(now: number): Promise<MediaRow[]> {
    const rows = await this.db.selectFrom('media').selectAll().where('expires_at', 'is not', null).where('expires_at', '<=', now).execute();
    return rows.map(toMedia);
  }

  async deleteMedia(id: string): Promise<void> {
    await this.db.deleteFrom('media').where('id', '=', id).execute();
  }

  async shaInUse(sha256: string): Promise<boolean> {
    const row = await this.db.selectFrom('media').select(sql<number>`1`.as('one')).where('sha256', '=', sha256).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  private dueIn(now: number, lineIds: readonly string[]) {
    return this.db.selectFrom('mms_inbound').where('status', '=', 'pending').where('next_attempt_at', '<=', now).where('line_id', 'in', lineIds);
  }
}
