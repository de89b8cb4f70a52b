import type { Statement } from 'better-sqlite3';
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
  lastAt: string;
  lastMessageId: string;
}

export interface DailyTotals {
  /** YYYY-MM-DD (UTC). */
  date: string;
  /** SMS segments sent and received that day. */
  outbound: number;
  inbound: number;
  /** Billable voice minutes of the calls that ended that day (as the ledger books them). */
  minutes: number;
}

interface GroupRow {
  number_id: string;
  contact: string;
  messages: number;
  last_at: string;
}

/** Read models for the operator dashboard: queries across numbers, by day and by contact. */
export class DashboardRepository {
  private readonly stmts;
  private readonly listStatements = new Map<string, Statement<Record<string, unknown>, { id: string; created_at: string }>>();

  constructor(private readonly db: Db) {
    this.stmts = {
      conversations: db.prepare<[number], GroupRow>(
        `SELECT number_id, contact, COUNT(*) AS messages, MAX(created_at) AS last_at
         FROM messages GROUP BY number_id, contact ORDER BY last_at DESC LIMIT ?`,
      ),
      conversationsOf: db.prepare<[string, number], GroupRow>(
        `SELECT number_id, contact, COUNT(*) AS messages, MAX(created_at) AS last_at
         FROM messages WHERE number_id = ? GROUP BY contact ORDER BY last_at DESC LIMIT ?`,
      ),
      lastOf: db.prepare<[string, string], { id: string }>(
        `SELECT id FROM messages WHERE number_id = ? AND contact = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
      ),
      daily: db.prepare<[string, string, string], { day: string; direction: 'inbound' | 'outbound'; segments: number }>(
        `SELECT substr(created_at, 1, 10) AS day, direction, SUM(segments) AS segments FROM messages
         WHERE number_id = ? AND created_at >= ? AND created_at < ? GROUP BY day, direction ORDER BY day`,
      ),
      // Per number, so the range runs on messages_by_number (no index on created_at alone).
      dailyMinutes: db.prepare<[string, string, string], { day: string; minutes: number }>(
        `SELECT substr(ended_at, 1, 10) AS day, SUM(billable_minutes) AS minutes FROM calls
         WHERE number_id = ? AND ended_at >= ? AND ended_at < ? AND billable_minutes > 0 GROUP BY day`,
      ),
      countSince: db.prepare<[string, string], { direction: 'inbound' | 'outbound'; n: number }>(
        `SELECT direction, COUNT(*) AS n FROM messages WHERE number_id = ? AND created_at >= ? GROUP BY direction`,
      ),
      numberIds: db.prepare<[], { id: string }>(`SELECT id FROM numbers`),
      webhookTrouble: db.prepare<[], { dead: number; retrying: number; held: number }>(
        `SELECT COALESCE(SUM(status = 'dead'), 0) AS dead,
                COALESCE(SUM(status = 'pending' AND last_error IS NOT NULL), 0) AS retrying,
                COALESCE(SUM(status = 'held'), 0) AS held
         FROM outbox WHERE status IN ('dead', 'pending', 'held')`,
      ),
      deliveriesOf: db.prepare<[string], { id: string }>(`SELECT id FROM outbox WHERE message_id = ? ORDER BY created_at, id`),
    };
  }

  /**
   * Message ids across numbers, newest first (callers load them through MessagesRepository).
   * Without a number or a contact to narrow it, each number's newest run on its own index
   * and the runs are merged: an index on created_at alone would cost every send a B-tree.
   */
  messageIds(f: DashboardMessageFilter): string[] {
    if (f.numberId || f.contact) return this.listRun(f).map((r) => r.id);
    return this.stmts.numberIds
      .all()
      .flatMap((n) => this.listRun({ ...f, numberId: n.id }))
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
      .slice(0, f.limit)
      .map((r) => r.id);
  }

  private listRun(f: DashboardMessageFilter): { id: string; created_at: string }[] {
    // Only the filters given go into the SQL, so SQLite can pick the index that fits them.
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: f.limit };
    const add = (name: string, value: unknown, clause: string) => {
      if (value === undefined || value === null || value === '') return;
      where.push(clause);
      params[name] = value;
    };
    add('numberId', f.numberId, 'number_id = @numberId');
    add('direction', f.direction, 'direction = @direction');
    add('status', f.status, 'status = @status');
    add('contact', f.contact, 'contact = @contact');
    add('search', f.search?.toLowerCase(), '(instr(lower(body), @search) > 0 OR instr(contact, @search) > 0)');
    if (f.before) {
      where.push('(created_at < @beforeAt OR (created_at = @beforeAt AND id < @beforeId))');
      params.beforeAt = f.before.createdAt;
      params.beforeId = f.before.id;
    }
    const sql = `SELECT id, created_at FROM messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT @limit`;
    let stmt = this.listStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Record<string, unknown>, { id: string; created_at: string }>(sql);
      this.listStatements.set(sql, stmt);
    }
    return stmt.all(params);
  }

  /** One row per (number, contact), the most recent conversation first. */
  conversations(numberId: string | undefined, limit: number): ConversationRow[] {
    const rows = numberId === undefined ? this.stmts.conversations.all(limit) : this.stmts.conversationsOf.all(numberId, limit);
    return rows.map((r) => ({
      numberId: r.number_id,
      contact: r.contact,
      messages: r.messages,
      lastAt: r.last_at,
      lastMessageId: (this.stmts.lastOf.get(r.number_id, r.contact) as { id: string }).id,
    }));
  }

  /** Per UTC day of `month` (YYYY-MM): SMS segments both ways, from the messages, and voice minutes, from the calls. */
  dailyTotals(numberId: string, month: string): DailyTotals[] {
    const [year, mon] = month.split('-').map(Number) as [number, number];
    const start = new Date(Date.UTC(year, mon - 1, 1));
    const end = new Date(Date.UTC(year, mon, 1));
    const byDay = new Map<string, DailyTotals>();
    for (let d = new Date(start); d < end; d.setUTCDate(d.getUTCDate() + 1)) {
      const date = d.toISOString().slice(0, 10);
      byDay.set(date, { date, outbound: 0, inbound: 0, minutes: 0 });
    }
    for (const row of this.stmts.daily.all(numberId, start.toISOString(), end.toISOString())) {
      const day = byDay.get(row.day);
      if (day) day[row.direction] = row.segments;
    }
    for (const row of this.stmts.dailyMinutes.all(numberId, start.toISOString(), end.toISOString())) {
      const day = byDay.get(row.day);
      if (day) day.minutes = row.minutes;
    }
    return [...byDay.values()];
  }

  /** Messages created at or after `sinceIso`, by direction. */
  countSince(sinceIso: string): { inbound: number; outbound: number } {
    const counts = { inbound: 0, outbound: 0 };
    for (const n of this.stmts.numberIds.all()) {
      for (const row of this.stmts.countSince.all(n.id, sinceIso)) counts[row.direction] += row.n;
    }
    return counts;
  }

  /** Webhook events dead-lettered, those still retrying after a failed attempt, and those held for a URL. */
  webhookTrouble(): { dead: number; retrying: number; held: number } {
    return this.stmts.webhookTrouble.get() as { dead: number; retrying: number; held: number };
  }

  /** Outbox event ids about one message, oldest first. */
  deliveryIdsFor(messageId: string): string[] {
    return this.stmts.deliveriesOf.all(messageId).map((r) => r.id);
  }
}
