import { sql, type Kysely } from 'kysely';
import type { Database } from './sql/database.ts';

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

/** Read models for the operator dashboard: queries across numbers, by day and by contact; SQLite and PostgreSQL. */
export class DashboardRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Message ids across numbers, newest first (callers load them through MessagesRepository).
   * Without a number or a contact to narrow it, each number's newest run on its own index
   * and the runs are merged: an index on created_at alone would cost every send a B-tree.
   */
  async messageIds(f: DashboardMessageFilter): Promise<string[]> {
    if (f.numberId || f.contact) return (await this.listRun(f)).map((r) => r.id);
    const runs = await Promise.all((await this.numberIds()).map((id) => this.listRun({ ...f, numberId: id })));
    return runs
      .flat()
      .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1))
      .slice(0, f.limit)
      .map((r) => r.id);
  }

  private listRun(f: DashboardMessageFilter): Promise<{ id: string; created_at: string }[]> {
    // Only the filters given go into the SQL, so the planner can pick the index that fits them.
    let q = this.db.selectFrom('messages').select(['id', 'created_at']);
    if (f.numberId) q = q.where('number_id', '=', f.numberId);
    if (f.direction) q = q.where('direction', '=', f.direction);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.contact) q = q.where('contact', '=', f.contact);
    if (f.search) {
      // LIKE on lower() of both sides: case-insensitive on both dialects (SQLite's LIKE ignores
      // ASCII case, PostgreSQL's does not), its wildcards in the search taken literally.
      const pattern = `%${f.search.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
      q = q.where(sql<boolean>`(lower(body) like ${pattern} escape '\\' or lower(contact) like ${pattern} escape '\\')`);
    }
    const before = f.before;
    if (before) q = q.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]));
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  }

  /** One row per (number, contact), the most recent conversation first. */
  async conversations(numberId: string | undefined, limit: number): Promise<ConversationRow[]> {
    let q = this.db
      .selectFrom('messages')
      .select((eb) => ['number_id', 'contact', eb.fn.countAll<number>().as('messages'), eb.fn.max('created_at').as('last_at')])
      .groupBy(['number_id', 'contact']);
    if (numberId !== undefined) q = q.where('number_id', '=', numberId);
    const rows = await q.orderBy('last_at', 'desc').limit(limit).execute();
    return Promise.all(
      rows.map(async (r) => {
        const last = await this.db
          .selectFrom('messages')
          .select('id')
          .where('number_id', '=', r.number_id)
          .where('contact', '=', r.contact)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirstOrThrow();
        return { numberId: r.number_id, contact: r.contact, messages: Number(r.messages), lastAt: r.last_at, lastMessageId: last.id };
      }),
    );
  }

  /** Per UTC day of `month` (YYYY-MM): SMS segments both ways, from the messages, and voice minutes, from the calls. */
  async dailyTotals(numberId: string, month: string): Promise<DailyTotals[]> {
    const [year, mon] = month.split('-').map(Number) as [number, number];
    const start = new Date(Date.UTC(year, mon - 1, 1)).toISOString();
    const end = new Date(Date.UTC(year, mon, 1)).toISOString();
    const byDay = new Map<string, DailyTotals>();
    for (let d = new Date(start); d.toISOString() < end; d.setUTCDate(d.getUTCDate() + 1)) {
      const date = d.toISOString().slice(0, 10);
      byDay.set(date, { date, outbound: 0, inbound: 0, minutes: 0 });
    }
    // The ISO timestamp's date part; literals, not parameters, so PostgreSQL sees the SELECT's
    // expression and the GROUP BY's as the same one.
    const createdDay = sql<string>`substr(created_at, 1, 10)`;
    const endedDay = sql<string>`substr(ended_at, 1, 10)`;
    const [segments, minutes] = await Promise.all([
      this.db
        .selectFrom('messages')
        .select((eb) => [createdDay.as('day'), 'direction', eb.fn.sum<number>('segments').as('segments')])
        .where('number_id', '=', numberId)
        .where('created_at', '>=', start)
        .where('created_at', '<', end)
        .groupBy([createdDay, 'direction'])
        .execute(),
      // Per number, so the range runs on calls_by_number (no index on ended_at alone).
      this.db
        .selectFrom('calls')
        .select((eb) => [endedDay.as('day'), eb.fn.sum<number>('billable_minutes').as('minutes')])
        .where('number_id', '=', numberId)
        .where('ended_at', '>=', start)
        .where('ended_at', '<', end)
        .where('billable_minutes', '>', 0)
        .groupBy(endedDay)
        .execute(),
    ]);
    for (const row of segments) {
      const day = byDay.get(row.day);
      if (day && (row.direction === 'inbound' || row.direction === 'outbound')) day[row.direction] = Number(row.segments);
    }
    for (const row of minutes) {
      const day = byDay.get(row.day);
      if (day) day.minutes = Number(row.minutes);
    }
    return [...byDay.values()];
  }

  /** Messages created at or after `sinceIso`, by direction. */
  async countSince(sinceIso: string): Promise<{ inbound: number; outbound: number }> {
    const counts = { inbound: 0, outbound: 0 };
    // Per number, so each count runs on messages_by_number.
    const perNumber = await Promise.all(
      (await this.numberIds()).map((id) =>
        this.db
          .selectFrom('messages')
          .select((eb) => ['direction', eb.fn.countAll<number>().as('n')])
          .where('number_id', '=', id)
          .where('created_at', '>=', sinceIso)
          .groupBy('direction')
          .execute(),
      ),
    );
    for (const row of perNumber.flat()) {
      if (row.direction === 'inbound' || row.direction === 'outbound') counts[row.direction] += Number(row.n);
    }
    return counts;
  }

  /** Webhook events dead-lettered, those still retrying after a failed attempt, and those held for a URL. */
  async webhookTrouble(): Promise<{ dead: number; retrying: number; held: number }> {
    // CASE, not SUM(boolean): PostgreSQL cannot sum a comparison.
    const r = await this.db
      .selectFrom('outbox')
      .select([
        sql<number>`coalesce(sum(case when status = 'dead' then 1 else 0 end), 0)`.as('dead'),
        sql<number>`coalesce(sum(case when status = 'pending' and last_error is not null then 1 else 0 end), 0)`.as('retrying'),
        sql<number>`coalesce(sum(case when status = 'held' then 1 else 0 end), 0)`.as('held'),
      ])
      .where('status', 'in', ['dead', 'pending', 'held'])
      .executeTakeFirstOrThrow();
    return { dead: Number(r.dead), retrying: Number(r.retrying), held: Number(r.held) };
  }

  /** Outbox event ids about one message, oldest first. */
  async deliveryIdsFor(messageId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('outbox').select('id').where('message_id', '=', messageId).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  private async numberIds(): Promise<string[]> {
    return (await this.db.selectFrom('numbers').select('id').execute()).map((r) => r.id);
  }
}
