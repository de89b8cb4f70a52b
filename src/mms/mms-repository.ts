/** The MMS tables: media rows, outbound sends, inbound notifications (migrations 004, 012) and kept raw pushes. */
import type { Db } from '../store/index.ts';

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

interface RawPushDbRow {
  id: number;
  line_id: string;
  reason: string;
  error_code: string | null;
  error_at: number | null;
  data: Buffer;
  created_at: number;
}

interface UnfetchableDbRow {
  id: number;
  line_id: string;
  sender: string | null;
  size: number | null;
  created_at: number;
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

interface OutboundRow {
  message_id: string;
  line_id: string;
  transaction_id: string;
  status: OutboundMmsStatus;
  attempts: number;
  next_attempt_at: number;
  mms_message_id: string | null;
}

interface InboundRow {
  id: number;
  line_id: string;
  transaction_id: string;
  content_location: string;
  sender: string | null;
  size: number | null;
  attempts: number;
}

interface MediaDbRow {
  id: string;
  sha256: string;
  content_type: string;
  size: number;
  name: string | null;
  message_id: string | null;
  created_at: number;
  expires_at: number | null;
}

const toOutbound = (r: OutboundRow): OutboundMms => ({
  messageId: r.message_id,
  lineId: r.line_id,
  transactionId: r.transaction_id,
  status: r.status,
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
const toMedia = (r: MediaDbRow): MediaRow => ({
  id: r.id,
  sha256: r.sha256,
  contentType: r.content_type,
  size: r.size,
  name: r.name,
  messageId: r.message_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const OUT_COLS = 'message_id, line_id, transaction_id, status, attempts, next_attempt_at, mms_message_id';
const IN_COLS = 'id, line_id, transaction_id, content_location, sender, size, attempts';

export class MmsRepository {
  private readonly s;

  constructor(readonly db: Db) {
    this.s = {
      insertOut: db.prepare(`INSERT INTO mms_outbound (message_id, line_id, transaction_id, status) VALUES (?, ?, ?, 'queued')`),
      claimOut: db.prepare<[number, string, number], OutboundRow>(
        `UPDATE mms_outbound SET status = 'sending', attempts = attempts + 1
         WHERE message_id IN (SELECT message_id FROM mms_outbound WHERE status = 'queued' AND next_attempt_at <= ?
                              AND line_id IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at LIMIT ?)
         RETURNING ${OUT_COLS}`,
      ),
      nextOutDue: db.prepare<[string], { t: number | null }>(
        `SELECT MIN(next_attempt_at) AS t FROM mms_outbound WHERE status = 'queued' AND line_id IN (SELECT value FROM json_each(?))`,
      ),
      setOut: db.prepare(
        `UPDATE mms_outbound SET status = @status, next_attempt_at = @next, mms_message_id = COALESCE(@mmsId, mms_message_id),
           error_code = @code, error_message = @message WHERE message_id = @messageId`,
      ),
      deferOut: db.prepare(`UPDATE mms_outbound SET status = 'queued', attempts = attempts - 1, next_attempt_at = ? WHERE message_id = ?`),
      outByMmsId: db.prepare<[string, string], OutboundRow>(`SELECT ${OUT_COLS} FROM mms_outbound WHERE line_id = ? AND mms_message_id = ?`),
      requeueOut: db.prepare(`UPDATE mms_outbound SET status = 'queued' WHERE status = 'sending'`),
      insertIn: db.prepare(
        `INSERT INTO mms_inbound (line_id, transaction_id, content_location, sender, size, status, created_at)
         VALUES (@lineId, @transactionId, @contentLocation, @sender, @size, @status, @now) ON CONFLICT DO NOTHING`,
      ),
      pendingLines: db.prepare<[], { line_id: string }>(`SELECT DISTINCT line_id FROM mms_inbound WHERE status = 'pending'`),
      strand: db.prepare<[string], InboundRow>(
        `UPDATE mms_inbound SET status = 'unfetchable'
         WHERE status = 'pending' AND line_id IN (SELECT value FROM json_each(?)) RETURNING ${IN_COLS}`,
      ),
      unfetchableLines: db.prepare<[], { line_id: string }>(`SELECT DISTINCT line_id FROM mms_inbound WHERE status = 'unfetchable'`),
      refetchable: db.prepare<[string]>(
        `UPDATE mms_inbound SET status = 'pending', next_attempt_at = 0, error = NULL
         WHERE status = 'unfetchable' AND line_id IN (SELECT value FROM json_each(?))`,
      ),
      unfetchable: db.prepare<[number], UnfetchableDbRow>(
        `SELECT id, line_id, sender, size, created_at FROM mms_inbound WHERE status = 'unfetchable' ORDER BY id DESC LIMIT ?`,
      ),
      unfetchableCount: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM mms_inbound WHERE status = 'unfetchable'`),
      insertRaw: db.prepare(
        `INSERT INTO mms_raw_pushes (line_id, reason, error_code, error_at, data, created_at)
         VALUES (@lineId, @reason, @code, @at, @data, @now)`,
      ),
      rawPushes: db.prepare<[number], RawPushDbRow>(
        `SELECT id, line_id, reason, error_code, error_at, data, created_at FROM mms_raw_pushes ORDER BY id DESC LIMIT ?`,
      ),
      rawPushCount: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM mms_raw_pushes`),
      dueIn: db.prepare<[number, string, number], InboundRow>(
        `SELECT ${IN_COLS} FROM mms_inbound WHERE status = 'pending' AND next_attempt_at <= ? AND line_id IN (SELECT value FROM json_each(?))
         ORDER BY id LIMIT ?`,
      ),
      nextInDue: db.prepare<[string], { t: number | null }>(
        `SELECT MIN(next_attempt_at) AS t FROM mms_inbound WHERE status = 'pending' AND line_id IN (SELECT value FROM json_each(?))`,
      ),
      setIn: db.prepare(
        `UPDATE mms_inbound SET status = @status, attempts = @attempts, next_attempt_at = @next, message_id = @messageId, error = @error WHERE id = @id`,
      ),
      insertMedia: db.prepare(
        `INSERT INTO media (id, sha256, content_type, size, name, message_id, created_at, expires_at)
         VALUES (@id, @sha256, @contentType, @size, @name, @messageId, @createdAt, @expiresAt)`,
      ),
      media: db.prepare<[string], MediaDbRow>(`SELECT * FROM media WHERE id = ?`),
      linkMedia: db.prepare(`UPDATE media SET message_id = ? WHERE id = ?`),
      expiredMedia: db.prepare<[number], MediaDbRow>(`SELECT * FROM media WHERE expires_at IS NOT NULL AND expires_at <= ?`),
      deleteMedia: db.prepare(`DELETE FROM media WHERE id = ?`),
      shaUsed: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM media WHERE sha256 = ?`),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  queueOutbound(messageId: string, lineId: string, transactionId: string): void {
    this.s.insertOut.run(messageId, lineId, transactionId);
  }

  claimOutbound(now: number, lineIds: readonly string[], limit: number): OutboundMms[] {
    return this.s.claimOut.all(now, JSON.stringify(lineIds), limit).map(toOutbound);
  }

  nextOutboundDueAt(lineIds: readonly string[]): number | undefined {
    return this.s.nextOutDue.get(JSON.stringify(lineIds))?.t ?? undefined;
  }

  setOutbound(messageId: string, o: { status: OutboundMmsStatus; next?: number; mmsMessageId?: string | null; code?: string | null; message?: string | null }): void {
    this.s.setOut.run({ messageId, status: o.status, next: o.next ?? 0, mmsId: o.mmsMessageId ?? null, code: o.code ?? null, message: o.message ?? null });
  }

  deferOutbound(messageId: string, at: number): void {
    this.s.deferOut.run(at, messageId);
  }

  outboundByMmsId(lineId: string, mmsMessageId: string): OutboundMms | undefined {
    const r = this.s.outByMmsId.get(lineId, mmsMessageId);
    return r && toOutbound(r);
  }

  requeueInterrupted(): number {
    return this.s.requeueOut.run().changes;
  }

  /**
   * False when this line already has a notification with this transaction id. `unfetchable`:
   * the line has no MMS configured, so nothing will fetch it (until MMS is configured).
   */
  insertNotification(n: {
    lineId: string;
    transactionId: string;
    contentLocation: string;
    sender: string | null;
    size: number | null;
    now: number;
    status?: 'pending' | 'unfetchable';
  }): boolean {
    return this.s.insertIn.run({ ...n, status: n.status ?? 'pending' }).changes === 1;
  }

  /**
   * Pending notifications on lines that can no longer fetch (MMS removed from the line, or
   * rows from before `unfetchable` existed) become unfetchable; returns them.
   */
  strandPending(canFetch: (lineId: string) => boolean): InboundNotification[] {
    const lines = this.s.pendingLines.all().map((r) => r.line_id).filter((l) => !canFetch(l));
    return lines.length === 0 ? [] : this.s.strand.all(JSON.stringify(lines)).map(toInbound);
  }

  /** Lines that now have MMS: their unfetchable notifications are fetched after all. */
  requeueUnfetchable(hasMms: (lineId: string) => boolean): number {
    const lines = this.s.unfetchableLines.all().map((r) => r.line_id).filter(hasMms);
    return lines.length === 0 ? 0 : this.s.refetchable.run(JSON.stringify(lines)).changes;
  }

  /** Notifications nothing can fetch (no MMS on their line), newest first, and how many there are. */
  unfetchable(limit: number): { count: number; items: UnfetchableNotification[] } {
    return {
      count: this.s.unfetchableCount.get()?.n ?? 0,
      items: this.s.unfetchable.all(limit).map((r) => ({ id: r.id, lineId: r.line_id, sender: r.sender, size: r.size, createdAt: r.created_at })),
    };
  }

  /** Keeps the bytes of a WAP push that could not be used (undecodable, or not a usable notification). */
  insertRawPush(p: { lineId: string; reason: string; code: string | null; at: number | null; data: Uint8Array; now: number }): void {
    this.s.insertRaw.run({ ...p, data: Buffer.from(p.data) });
  }

  /** Kept pushes, newest first, and how many there are. */
  rawPushes(limit: number): { count: number; items: RawPush[] } {
    return {
      count: this.s.rawPushCount.get()?.n ?? 0,
      items: this.s.rawPushes.all(limit).map((r) => ({
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

  dueNotifications(now: number, lineIds: readonly string[], limit: number): InboundNotification[] {
    return this.s.dueIn.all(now, JSON.stringify(lineIds), limit).map(toInbound);
  }

  nextNotificationDueAt(lineIds: readonly string[]): number | undefined {
    return this.s.nextInDue.get(JSON.stringify(lineIds))?.t ?? undefined;
  }

  setNotification(id: number, o: { status: 'pending' | 'done' | 'failed'; attempts: number; next?: number; messageId?: string | null; error?: string | null }): void {
    this.s.setIn.run({ id, status: o.status, attempts: o.attempts, next: o.next ?? 0, messageId: o.messageId ?? null, error: o.error ?? null });
  }

  insertMedia(m: MediaRow): void {
    this.s.insertMedia.run(m);
  }

  media(id: string): MediaRow | undefined {
    const r = this.s.media.get(id);
    return r && toMedia(r);
  }

  linkMedia(id: string, messageId: string): void {
    this.s.linkMedia.run(messageId, id);
  }

  expiredMedia(now: number): MediaRow[] {
    return this.s.expiredMedia.all(now).map(toMedia);
  }

  deleteMedia(id: string): void {
    this.s.deleteMedia.run(id);
  }

  shaInUse(sha256: string): boolean {
    return (this.s.shaUsed.get(sha256)?.n ?? 0) > 0;
  }
}
