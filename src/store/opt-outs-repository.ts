import { sql, type Kysely, type Selectable } from 'kysely';
import type { OptOutAuditRecord, OptOutRecord, OptOutSource, OptOutState } from '../compliance/shapes.ts';
import type { Database, OptOutAuditTable, OptOutsTable } from './sql/database.ts';
import { PreparedQuery } from './sql/prepared-query.ts';

export type { OptOutAuditRecord, OptOutRecord, OptOutSource, OptOutState } from '../compliance/shapes.ts';

// The CHECK constraints of both schemas hold state, source and action to their unions.
const toRecord = (r: Selectable<OptOutsTable>): OptOutRecord => ({
  numberId: r.number_id,
  contact: r.contact,
  state: r.state as OptOutState,
  source: r.source as OptOutSource,
  keyword: r.keyword,
  actor: r.actor,
  updatedAt: r.updated_at,
});

const toAudit = (r: Selectable<OptOutAuditTable>): OptOutAuditRecord => ({
  id: r.id,
  numberId: r.number_id,
  contact: r.contact,
  action: r.action as OptOutAuditRecord['action'],
  source: r.source as OptOutSource,
  keyword: r.keyword,
  actor: r.actor,
  note: r.note,
  at: r.at,
});

/** Every send checks it: compiled once (see PreparedQuery). */
const GET_STATE = new PreparedQuery(['numberId', 'contact'] as const, (db: Kysely<Database>, k: { numberId: string; contact: string }) =>
  db.selectFrom('opt_outs').selectAll().where('number_id', '=', k.numberId).where('contact', '=', k.contact),
);

/** opt_outs (current state per number and contact) and opt_out_audit (every change); SQLite and PostgreSQL. */
export class OptOutsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The send path's check: one primary-key lookup. */
  async get(numberId: string, contact: string): Promise<OptOutRecord | undefined> {
    const [row] = await GET_STATE.execute(this.db, { numberId, contact });
    return row && toRecord(row);
  }

  /**
   * Sets the state unless it is already that, and appends the change's audit row; false (and
   * nothing written) when the state was already `state`. The upsert changes the row only when
   * the state differs and says whether it did (RETURNING), so of two writers racing to the same
   * state on PostgreSQL (the second waits on the first's row) exactly one writes its audit row.
   * Two statements: call inside a transaction, so the state and its audit row go together.
   */
  async record(change: { numberId: string; contact: string; state: OptOutState; source: OptOutSource; keyword: string | null; actor: string; note: string | null; at: string }): Promise<boolean> {
    const changed = await this.db
      .insertInto('opt_outs')
      .values({ number_id: change.numberId, contact: change.contact, state: change.state, source: change.source, keyword: change.keyword, actor: change.actor, updated_at: change.at })
      .onConflict((oc) =>
        oc
          .columns(['number_id', 'contact'])
          .doUpdateSet((eb) => ({
            state: eb.ref('excluded.state'),
            source: eb.ref('excluded.source'),
            keyword: eb.ref('excluded.keyword'),
            actor: eb.ref('excluded.actor'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          .where(sql<boolean>`opt_outs.state <> excluded.state`),
      )
      .returning('number_id')
      .executeTakeFirst();
    if (!changed) return false;
    await this.db
      .insertInto('opt_out_audit')
      .values({
        number_id: change.numberId,
        contact: change.contact,
        action: change.state === 'opted_out' ? 'opt_out' : 'opt_in',
        source: change.source,
        keyword: change.keyword,
        actor: change.actor,
        note: change.note,
        at: change.at,
      })
      .execute();
    return true;
  }

  async list(filter: { numberId?: string | undefined; state?: OptOutState | undefined; limit: number }): Promise<OptOutRecord[]> {
    let q = this.db.selectFrom('opt_outs').selectAll();
    if (filter.numberId !== undefined) q = q.where('number_id', '=', filter.numberId);
    if (filter.state !== undefined) q = q.where('state', '=', filter.state);
    const rows = await q.orderBy('updated_at', 'desc').orderBy('number_id').orderBy('contact').limit(filter.limit).execute();
    return rows.map(toRecord);
  }

  /** The audit history, oldest first. */
  async audit(filter: { numberId?: string | undefined; contact?: string | undefined; limit: number }): Promise<OptOutAuditRecord[]> {
    let q = this.db.selectFrom('opt_out_audit').selectAll();
    if (filter.numberId !== undefined) q = q.where('number_id', '=', filter.numberId);
    if (filter.contact !== undefined) q = q.where('contact', '=', filter.contact);
    const rows = await q.orderBy('id').limit(filter.limit).execute();
    return rows.map(toAudit);
  }
}
