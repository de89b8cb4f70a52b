import type { OptOutAuditRecord, OptOutRecord, OptOutSource, OptOutState } from '../compliance/shapes.ts';
import type { Db } from './db.ts';

export type { OptOutAuditRecord, OptOutRecord, OptOutSource, OptOutState } from '../compliance/shapes.ts';

interface StateRow {
  number_id: string;
  contact: string;
  state: OptOutState;
  source: OptOutSource;
  keyword: string | null;
  actor: string;
  updated_at: string;
}

interface AuditRow {
  id: number;
  number_id: string;
  contact: string;
  action: 'opt_out' | 'opt_in';
  source: OptOutSource;
  keyword: string | null;
  actor: string;
  note: string | null;
  at: string;
}

const toRecord = (r: StateRow): OptOutRecord => ({
  numberId: r.number_id,
  contact: r.contact,
  state: r.state,
  source: r.source,
  keyword: r.keyword,
  actor: r.actor,
  updatedAt: r.updated_at,
});

const toAudit = (r: AuditRow): OptOutAuditRecord => ({
  id: r.id,
  numberId: r.number_id,
  contact: r.contact,
  action: r.action,
  source: r.source,
  keyword: r.keyword,
  actor: r.actor,
  note: r.note,
  at: r.at,
});

const STATE_COLUMNS = 'number_id, contact, state, source, keyword, actor, updated_at';
const AUDIT_COLUMNS = 'id, number_id, contact, action, source, keyword, actor, note, at';

/** opt_outs (current state per number and contact) and opt_out_audit (every change). */
export class OptOutsRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      // The send path's check: one primary-key lookup.
      get: db.prepare<[string, string], StateRow>(`SELECT ${STATE_COLUMNS} FROM opt_outs WHERE number_id = ? AND contact = ?`),
      upsert: db.prepare(
        `INSERT INTO opt_outs (${STATE_COLUMNS}) VALUES (@numberId, @contact, @state, @source, @keyword, @actor, @at)
         ON CONFLICT (number_id, contact) DO UPDATE SET state = excluded.state, source = excluded.source,
           keyword = excluded.keyword, actor = excluded.actor, updated_at = excluded.updated_at`,
      ),
      audit: db.prepare(
        `INSERT INTO opt_out_audit (number_id, contact, action, source, keyword, actor, note, at)
         VALUES (@numberId, @contact, @action, @source, @keyword, @actor, @note, @at)`,
      ),
      list: db.prepare<[{ numberId: string | null; state: string | null; limit: number }], StateRow>(
        `SELECT ${STATE_COLUMNS} FROM opt_outs WHERE (@numberId IS NULL OR number_id = @numberId) AND (@state IS NULL OR state = @state)
         ORDER BY updated_at DESC, number_id, contact LIMIT @limit`,
      ),
      auditList: db.prepare<[{ numberId: string | null; contact: string | null; limit: number }], AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM opt_out_audit WHERE (@numberId IS NULL OR number_id = @numberId) AND (@contact IS NULL OR contact = @contact)
         ORDER BY id LIMIT @limit`,
      ),
    };
  }

  get(numberId: string, contact: string): OptOutRecord | undefined {
    const row = this.stmts.get.get(numberId, contact);
    return row && toRecord(row);
  }

  /** Sets the state and appends its audit row; call inside a transaction. */
  record(change: { numberId: string; contact: string; state: OptOutState; source: OptOutSource; keyword: string | null; actor: string; note: string | null; at: string }): void {
    this.stmts.upsert.run({ numberId: change.numberId, contact: change.contact, state: change.state, source: change.source, keyword: change.keyword, actor: change.actor, at: change.at });
    this.stmts.audit.run({
      numberId: change.numberId,
      contact: change.contact,
      action: change.state === 'opted_out' ? 'opt_out' : 'opt_in',
      source: change.source,
      keyword: change.keyword,
      actor: change.actor,
      note: change.note,
      at: change.at,
    });
  }

  list(filter: { numberId?: string | undefined; state?: OptOutState | undefined; limit: number }): OptOutRecord[] {
    return this.stmts.list.all({ numberId: filter.numberId ?? null, state: filter.state ?? null, limit: filter.limit }).map(toRecord);
  }

  /** The audit history, oldest first. */
  audit(filter: { numberId?: string | undefined; contact?: string | undefined; limit: number }): OptOutAuditRecord[] {
    return this.stmts.auditList.all({ numberId: filter.numberId ?? null, contact: filter.contact ?? null, limit: filter.limit }).map(toAudit);
  }
}
