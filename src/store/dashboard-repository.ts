import type { Db } from './db.ts';

export interface DashboardMessageFilter {
  numberId?: string | undefined;
  direction?: 'inbound' | 'outbound' | undefined;
  status?: string | undefined;
  /** Exact E.164 of the other party. */
  contact?: string | undefined;
  /** Case-insensitive substring of the text or the contact. */
  search?: string | undefined;
  /** Continue after this (createdAt, id), newest first. */
  before?: { createdAt: string; id: string } | undefined;
  limit: number;
}

export interface ConversationRow {
  numberId: string;
  contact: string;
  messages: number;
  inbound: number;
  lastAt: string;
  lastMessageId: string;
}

export interface DailySegments {
  /** YYYY-MM-DD (UTC). */
  date: string;
  outbound: number;
  inbound: number;
}

/** Read models for the operator dashboard: queries across numbers, by day and by contact. */
export class DashboardRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      messageIds: db.prepare<Record<string, unknown>, { id: string }>(
        `SELECT id FROM messages
         WHERE (@numberId IS NULL OR number_id = @numberId)
           AND (@direction IS NULL OR direction = @direction)
           AND (@status IS NULL OR status = @status)
           AND (@contact IS NULL OR contact = @contact)
           AND (@search IS NULL OR instr(lower(body), @search) > 0 OR instr(contact, @search) > 0)
           AND (@beforeAt IS NULL OR created_at < @beforeAt OR (created_at = @beforeAt AND id < @beforeId))
         ORDER BY created_at DESC, id DESC LIMIT @limit`,
      ),
      conversations: db.prepare<Record<string, unknown>, { number_id: string; contact: string; messages: number; inbound: number; last_at: string }>(
        `SELECT number_id, contact, COUNT(*) AS messages, SUM(direction = 'inbound') AS inbound, MAX(created_at) AS last_at
         FROM messages WHERE (@numberId IS NULL OR number_id = @numberId)
         GROUP BY number_id, contact ORDER BY last_at DESC LIMIT @limit`,
      ),
      lastOf: db.prepare<[string, string], { id: string }>(
        `SELECT id FROM messages WHERE number_id = ? AND contact = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
      ),
      daily: db.prepare<[string, string, string], { day: string; direction: 'inbound' | 'outbound'; segments: number }>(
        `SELECT substr(created_at, 1, 10) AS day, direction, SUM(segments) AS segments FROM messages
         WHERE number_id = ? AND created_at >= ? AND created_at < ? GROUP BY day, direction ORDER BY day`,
      ),
      countSince: db.prepare<[string], { direction: 'inbound' | 'outbound'; n: number }>(
        `SELECT direction, COUNT(*) AS n FROM messages WHERE created_at >= ? GROUP BY direction`,
      ),
      webhookTrouble: db.prepare<[], { dead: number; retrying: number }>(
        `SELECT COALESCE(SUM(status = 'dead'), 0) AS dead,
                COALESCE(SUM(status = 'pending' AND last_error IS NOT NULL), 0) AS retrying
         FROM outbox WHERE status IN ('dead', 'pending')`,
      ),
      deliveriesOf: db.prepare<[string], { id: string }>(`SELECT id FROM outbox WHERE message_id = ? ORDER BY created_at, id`),
      changedSince: db.prepare<[string, number], { id: string; updated_at: string }>(
        `SELECT id, updated_at FROM messages WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?`,
      ),
      latestUpdate: db.prepare<[], { t: string | null }>(`SELECT MAX(updated_at) AS t FROM messages`),
    };
  }

  /** Message ids across numbers, newest first (callers load them through MessagesRepository). */
  messageIds(f: DashboardMessageFilter): string[] {
    return this.stmts.messageIds
      .all({
        numberId: f.numberId ?? null,
        direction: f.direction ?? null,
        status: f.status ?? null,
        contact: f.contact ?? null,
        search: f.search ? f.search.toLowerCase() : null,
        beforeAt: f.before?.createdAt ?? null,
        beforeId: f.before?.id ?? null,
        limit: f.limit,
      })
      .map((r) => r.id);
  }

  /** One row per (number, contact), the most recent conversation first. */
  conversations(numberId: string | undefined, limit: number): ConversationRow[] {
    return this.stmts.conversations.all({ numberId: numberId ?? null, limit }).map((r) => ({
      numberId: r.number_id,
      contact: r.contact,
      messages: r.messages,
      inbound: r.inbound,
      lastAt: r.last_at,
      lastMessageId: (this.stmts.lastOf.get(r.number_id, r.contact) as { id: string }).id,
    }));
  }

  /** SMS segments per UTC day of `month` (YYYY-MM), both directions, from the messages themselves. */
  dailySegments(numberId: string, month: string): DailySegments[] {
    const [year, mon] = month.split('-').map(Number) as [number, number];
    const start = new Date(Date.UTC(year, mon - 1, 1));
    const end = new Date(Date.UTC(year, mon, 1));
    const byDay = new Map<string, DailySegments>();
    for (let d = new Date(start); d < end; d.setUTCDate(d.getUTCDate() + 1)) {
      const date = d.toISOString().slice(0, 10);
      byDay.set(date, { date, outbound: 0, inbound: 0 });
    }
    for (const row of this.stmts.daily.all(numberId, start.toISOString(), end.toISOString())) {
      const day = byDay.get(row.day);
      if (day) day[row.direction] = row.segments;
    }
    return [...byDay.values()];
  }

  /** Messages created at or after `sinceIso`, by direction. */
  countSince(sinceIso: string): { inbound: number; outbound: number } {
    const counts = { inbound: 0, outbound: 0 };
    for (const row of this.stmts.countSince.all(sinceIso)) counts[row.direction] = row.n;
    return counts;
  }

  /** Webhook events dead-lettered, and those still retrying after a failed attempt. */
  webhookTrouble(): { dead: number; retrying: number } {
    return this.stmts.webhookTrouble.get() as { dead: number; retrying: number };
  }

  /** Outbox event ids about one message, oldest first. */
  deliveryIdsFor(messageId: string): string[] {
    return this.stmts.deliveriesOf.all(messageId).map((r) => r.id);
  }

  /** Messages whose updated_at is at or after `sinceIso`, oldest change first. */
  changedSince(sinceIso: string, limit: number): { id: string; updatedAt: string }[] {
    return this.stmts.changedSince.all(sinceIso, limit).map((r) => ({ id: r.id, updatedAt: r.updated_at }));
  }

  latestUpdate(): string | null {
    return this.stmts.latestUpdate.get()?.t ?? null;
  }
}
