import type { Db } from './db.ts';

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

interface OutboxRow {
  id: string;
  number_id: string;
  event: string;
  message_id: string | null;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  last_answer: string | null;
  created_at: string;
  delivered_at: string | null;
}

const COLUMNS = `id, number_id, event, message_id, payload, status, attempts, next_attempt_at, last_status,
  last_error, last_answer, created_at, delivered_at`;

function toEvent(r: OutboxRow): OutboxEvent {
  return {
    id: r.id,
    numberId: r.number_id,
    event: r.event,
    messageId: r.message_id,
    payload: r.payload,
    status: r.status,
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
 */
export class OutboxRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO outbox (id, number_id, event, message_id, payload, status, next_attempt_at, created_at)
         VALUES (@id, @numberId, @event, @messageId, @payload, 'pending', @nextAttemptAt, @createdAt)`,
      ),
      claim: db.prepare<[number, number, number, number], OutboxRow>(
        `UPDATE outbox SET lease_until = ?, attempts = attempts + 1
         WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
                      ORDER BY next_attempt_at LIMIT ?)
         RETURNING ${COLUMNS}`,
      ),
      nextDue: db.prepare<[], { t: number | null }>(
        `SELECT MIN(MAX(next_attempt_at, lease_until)) AS t FROM outbox WHERE status = 'pending'`,
      ),
      delivered: db.prepare<[number, string | null, string, string]>(
        `UPDATE outbox SET status = 'delivered', last_status = ?, last_error = NULL, last_answer = ?, delivered_at = ?, lease_until = 0
         WHERE id = ?`,
      ),
      retry: db.prepare<[number | null, string, number, string]>(
        `UPDATE outbox SET last_status = ?, last_error = ?, next_attempt_at = ?, lease_until = 0 WHERE id = ?`,
      ),
      dead: db.prepare<[number | null, string, string]>(
        `UPDATE outbox SET status = 'dead', last_status = ?, last_error = ?, lease_until = 0 WHERE id = ?`,
      ),
      hold: db.prepare<[string]>(
        `UPDATE outbox SET status = 'held', attempts = 0, lease_until = 0, last_error = NULL WHERE id = ?`,
      ),
      claimHeld: db.prepare<[number, string], OutboxRow>(
        `UPDATE outbox SET status = 'pending', lease_until = ?, attempts = 1
         WHERE id = (SELECT id FROM outbox WHERE number_id = ? AND status = 'held' ORDER BY created_at, rowid LIMIT 1)
         RETURNING ${COLUMNS}`,
      ),
      heldNumbers: db.prepare<[], { number_id: string }>(`SELECT DISTINCT number_id FROM outbox WHERE status = 'held'`),
      redeliver: db.prepare<[number, string]>(
        `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0 WHERE id = ?`,
      ),
      releaseLeases: db.prepare(`UPDATE outbox SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0`),
      byId: db.prepare<[string], OutboxRow>(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`),
      byNumber: db.prepare<[string, string | null, string | null, number], OutboxRow>(
        `SELECT ${COLUMNS} FROM outbox WHERE number_id = ? AND (? IS NULL OR status = ?)
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
    };
  }

  insert(e: { id: string; numberId: string; event: string; messageId: string | null; payload: string; now: number }): void {
    this.stmts.insert.run({
      id: e.id,
      numberId: e.numberId,
      event: e.event,
      messageId: e.messageId,
      payload: e.payload,
      nextAttemptAt: e.now,
      createdAt: new Date(e.now).toISOString(),
    });
  }

  /** Leases up to `limit` due events for `leaseMs`, counting the attempt. */
  claimDue(now: number, leaseMs: number, limit: number): OutboxEvent[] {
    return this.stmts.claim.all(now + leaseMs, now, now, limit).map(toEvent);
  }

  /** When the next pending event becomes due (or its lease expires); undefined if none. */
  nextDueAt(): number | undefined {
    return this.stmts.nextDue.get()?.t ?? undefined;
  }

  markDelivered(id: string, httpStatus: number, now: number, answer: string | null = null): void {
    this.stmts.delivered.run(httpStatus, answer, new Date(now).toISOString(), id);
  }

  scheduleRetry(id: string, httpStatus: number | null, error: string, at: number): void {
    this.stmts.retry.run(httpStatus, error, at, id);
  }

  markDead(id: string, httpStatus: number | null, error: string): void {
    this.stmts.dead.run(httpStatus, error, id);
  }

  /** The number has no webhook URL: the event waits, unattempted, until one is set. */
  hold(id: string): void {
    this.stmts.hold.run(id);
  }

  /** Leases the oldest held event of a number (now pending, one attempt); undefined when none is left. */
  claimHeld(numberId: string, now: number, leaseMs: number): OutboxEvent | undefined {
    const row = this.stmts.claimHeld.get(now + leaseMs, numberId);
    return row && toEvent(row);
  }

  /** Numbers that have events held. */
  heldNumberIds(): string[] {
    return this.stmts.heldNumbers.all().map((r) => r.number_id);
  }

  /** Puts a delivered or dead event back in line, as new. */
  redeliver(id: string, now: number): boolean {
    return this.stmts.redeliver.run(now, id).changes === 1;
  }

  /** At start: deliveries a previous process had leased when it stopped (or crashed) are due now. */
  releaseLeases(): number {
    return this.stmts.releaseLeases.run().changes;
  }

  get(id: string): OutboxEvent | undefined {
    const row = this.stmts.byId.get(id);
    return row && toEvent(row);
  }

  listForNumber(numberId: string, status: OutboxStatus | null, limit: number): OutboxEvent[] {
    return this.stmts.byNumber.all(numberId, status, status, limit).map(toEvent);
  }
}
