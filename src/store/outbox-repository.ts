import { sql, type Kysely, type Selectable } from 'kysely';
import { onPostgres } from './messages-repository.ts';
import type { Database, OutboxTable } from './sql/database.ts';

/** `held`: waiting for its number to get a webhook URL; not a failure, never retried on a clock. */
export type OutboxStatus = 'pending' | 'held' | 'delivered' | 'dead';

export interface OutboxEvent {
  /** Also the X-AgentPhone-Delivery header: the same across retries. */
  id: string;
  numberId: string;
  event: string;
  messageId: string | null;
  /** The unsigned payload, as JSON text in the spec's key order. */
  payload: string;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  /** What the endpoint answered to the delivery that succeeded (`HTTP 200: …`, an excerpt). */
  lastAnswer: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

type OutboxRow = Selectable<OutboxTable>;

const COLUMNS = ['id', 'number_id', 'event', 'message_id', 'payload', 'status', 'attempts', 'next_attempt_at', 'last_status', 'last_error', 'last_answer', 'created_at', 'delivered_at'] as const satisfies ReadonlyArray<keyof OutboxTable>;

const COLUMNS_SQL = sql.raw(COLUMNS.join(', '));
const QUALIFIED_COLUMNS_SQL = sql.raw(COLUMNS.map((c) => `outbox.${c}`).join(', '));

function toEvent(r: Pick<OutboxRow, (typeof COLUMNS)[number]>): OutboxEvent {
  return {
    id: r.id,
    numberId: r.number_id,
    event: r.event,
    messageId: r.message_id,
    payload: r.payload,
    // The schema's CHECK holds status to OutboxStatus; the generated type says string.
    status: r.status as OutboxStatus,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    lastAnswer: r.last_answer,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

/**
 * The webhook outbox. Rows are written in the same transaction as the state change that
 * causes them; a dispatcher leases due rows, so a crash mid-delivery only delays a retry.
 * Leases are claimed in one statement each (SKIP LOCKED on PostgreSQL): two nodes never lease
 * the same event at once.
 */
export class OutboxRepository {
  private readonly postgres: boolean;

  constructor(private readonly db: Kysely<Database>) {
    this.postgres = onPostgres(db);
  }

  async insert(e: { id: string; numberId: string; event: string; messageId: string | null; payload: string; now: number }): Promise<void> {
    await this.db
      .insertInto('outbox')
      .values({
        id: e.id,
        number_id: e.numberId,
        event: e.event,
        message_id: e.messageId,
        payload: e.payload,
        status: 'pending',
        next_attempt_at: e.now,
        created_at: new Date(e.now).toISOString(),
      })
      .execute();
  }

  /** Leases up to `limit` due events for `leaseMs`, counting the attempt. */
  async claimDue(now: number, leaseMs: number, limit: number): Promise<OutboxEvent[]> {
    // PostgreSQL: SKIP LOCKED in a MATERIALIZED CTE (as an IN subquery it may be rescanned per
    // updated row, skip the rows just updated and pick more than `limit`).
    const claim = this.postgres
      ? sql<OutboxRow>`WITH due AS MATERIALIZED (
            SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ${now} AND lease_until <= ${now}
            ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          UPDATE outbox SET lease_until = ${now + leaseMs}, attempts = outbox.attempts + 1
          FROM due WHERE outbox.id = due.id AND outbox.status = 'pending' AND outbox.lease_until <= ${now}
          RETURNING ${QUALIFIED_COLUMNS_SQL}`
      : sql<OutboxRow>`UPDATE outbox SET lease_until = ${now + leaseMs}, attempts = attempts + 1
          WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ${now} AND lease_until <= ${now}
                       ORDER BY next_attempt_at LIMIT ${limit})
          RETURNING ${COLUMNS_SQL}`;
    const res = await claim.execute(this.db);
    return res.rows.map(toEvent).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  /** When the next pending event becomes due (or its lease expires); undefined if none. */
  async nextDueAt(): Promise<number | undefined> {
    // The later of the two per row: SQLite's scalar max() is PostgreSQL's greatest().
    const later = this.postgres ? sql<number>`greatest(next_attempt_at, lease_until)` : sql<number>`max(next_attempt_at, lease_until)`;
    const row = await this.db
      .selectFrom('outbox')
      .select(sql<number | null>`min(${later})`.as('t'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.t ?? undefined;
  }

  async markDelivered(id: string, httpStatus: number, now: number, answer: string | null = null): Promise<void> {
    await this.update(id, {
      status: 'delivered',
      last_status: httpStatus,
      last_error: null,
      last_answer: answer,
      delivered_at: new Date(now).toISOString(),
      lease_until: 0,
    });
  }

  async scheduleRetry(id: string, httpStatus: number | null, error: string, at: number): Promise<void> {
    await this.update(id, { last_status: httpStatus, last_error: error, next_attempt_at: at, lease_until: 0 });
  }

  async markDead(id: string, httpStatus: number | null, error: string): Promise<void> {
    await this.update(id, { status: 'dead', last_status: httpStatus, last_error: error, lease_until: 0 });
  }

  /** The number has no webhook URL: the event waits, unattempted, until one is set. */
  async hold(id: string): Promise<void> {
    await this.update(id, { status: 'held', attempts: 0, lease_until: 0, last_error: null });
  }

  /** Leases the oldest held event of a number (now pending, one attempt); undefined when none is left. */
  async claimHeld(numberId: string, now: number, leaseMs: number): Promise<OutboxEvent | undefined> {
    // Oldest first by created_at, then insertion order (SQLite's rowid; the id on PostgreSQL,
    // which has no rowid). SKIP LOCKED and the re-check of 'held': one node gets each event.
    const claim = this.postgres
      ? sql<OutboxRow>`WITH oldest AS MATERIALIZED (
            SELECT id FROM outbox WHERE number_id = ${numberId} AND status = 'held' ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
          UPDATE outbox SET status = 'pending', lease_until = ${now + leaseMs}, attempts = 1
          FROM oldest WHERE outbox.id = oldest.id AND outbox.status = 'held'
          RETURNING ${QUALIFIED_COLUMNS_SQL}`
      : sql<OutboxRow>`UPDATE outbox SET status = 'pending', lease_until = ${now + leaseMs}, attempts = 1
          WHERE id = (SELECT id FROM outbox WHERE number_id = ${numberId} AND status = 'held' ORDER BY created_at, rowid LIMIT 1)
          RETURNING ${COLUMNS_SQL}`;
    const res = await claim.execute(this.db);
    const row = res.rows[0];
    return row && toEvent(row);
  }

  /** Numbers that have events held. */
  async heldNumberIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('outbox').select('number_id').distinct().where('status', '=', 'held').execute();
    return rows.map((r) => r.number_id);
  }

  /** Puts a delivered or dead event back in line, as new. */
  async redeliver(id: string, now: number): Promise<boolean> {
    return (await this.update(id, { status: 'pending', attempts: 0, next_attempt_at: now, lease_until: 0 })) === 1;
  }

  /** At start: deliveries a previous process had leased when it stopped (or crashed) are due now. */
  async releaseLeases(): Promise<number> {
    const res = await this.db.updateTable('outbox').set({ lease_until: 0 }).where('status', '=', 'pending').where('lease_until', '>', 0).executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async get(id: string): Promise<OutboxEvent | undefined> {
    const row = await this.db.selectFrom('outbox').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toEvent(row);
  }

  async listForNumber(numberId: string, status: OutboxStatus | null, limit: number): Promise<OutboxEvent[]> {
    let q = this.db.selectFrom('outbox').select(COLUMNS).where('number_id', '=', numberId);
    if (status !== null) q = q.where('status', '=', status);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toEvent);
  }

  private async update(id: string, set: Partial<Omit<OutboxRow, 'id'>>): Promise<number> {
    const res = await this.db.updateTable('outbox').set(set).where('id', '=', id).executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}
