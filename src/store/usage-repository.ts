import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, UsageLedgerTable } from './sql/database.ts';
import { PreparedQuery } from './sql/prepared-query.ts';

/** A cap on the month's total over some kinds (e.g. every SMS segment, in and out). */
export interface UsageLimit {
  /** The kinds whose units count towards the cap; includes the kind being added. */
  readonly kinds: readonly string[];
  readonly max: number;
}

/** Every metered send and receive runs it: compiled once (see PreparedQuery). */
const ADD_UNITS = new PreparedQuery(['number_id', 'month', 'kind', 'units'] as const, (db: Kysely<Database>, row: Insertable<UsageLedgerTable>) =>
  db
    .insertInto('usage_ledger')
    .values(row)
    .onConflict((oc) => oc.columns(['number_id', 'month', 'kind']).doUpdateSet({ units: sql<number>`usage_ledger.units + excluded.units` })),
);

/**
 * The monthly usage ledger: units per (number, month, kind) and per (API key, month, kind).
 * Every change is one upsert that adds to the stored value in the database, so concurrent writers
 * (several requests, several nodes) never lose each other's units.
 */
export class UsageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async add(numberId: string, month: string, kind: string, units: number): Promise<void> {
    await ADD_UNITS.execute(this.db, { number_id: numberId, month, kind, units });
  }

  /**
   * Adds `units` unless the month's total over `limit.kinds` would then pass `limit.max`; false
   * when refused (nothing added). One statement, check and add together: of two writers taking
   * the last units at once only one gets them. On PostgreSQL the second waits for the first's row
   * lock and its DO UPDATE … WHERE re-checks against the row as the first left it.
   */
  async addWithinLimit(numberId: string, month: string, kind: string, units: number, limit: UsageLimit): Promise<boolean> {
    const others = limit.kinds.filter((k) => k !== kind);
    // The other kinds' units (never refused, e.g. inbound segments) as the statement sees them.
    const othersUsed =
      others.length === 0
        ? sql<number>`0`
        : sql<number>`(SELECT coalesce(sum(o.units), 0) FROM usage_ledger o
             WHERE o.number_id = ${numberId} AND o.month = ${month} AND o.kind IN (${sql.join(others)}))`;
    // INSERT … SELECT … WHERE refuses the first units of a month; the DO UPDATE … WHERE the rest.
    // (SQLite needs the WHERE on the SELECT to read ON CONFLICT as the upsert clause.)
    const { rows } = await sql<{ units: number }>`
      INSERT INTO usage_ledger (number_id, month, kind, units)
      SELECT ${numberId}, ${month}, ${kind}, ${units}
      WHERE ${othersUsed} + ${units} <= ${limit.max}
      ON CONFLICT (number_id, month, kind) DO UPDATE SET units = usage_ledger.units + excluded.units
      WHERE usage_ledger.units + excluded.units + ${othersUsed} <= ${limit.max}
      RETURNING units`.execute(this.db);
    return rows.length > 0;
  }

  async forNumber(numberId: string, month: string): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('usage_ledger').select(['kind', 'units']).where('number_id', '=', numberId).where('month', '=', month).execute();
    return Object.fromEntries(rows.map((r) => [r.kind, r.units]));
  }

  async addForKey(apiKeyId: string, month: string, kind: string, units: number): Promise<void> {
    await this.db
      .insertInto('key_usage_ledger')
      .values({ api_key_id: apiKeyId, month, kind, units })
      .onConflict((oc) => oc.columns(['api_key_id', 'month', 'kind']).doUpdateSet({ units: sql<number>`key_usage_ledger.units + excluded.units` }))
      .execute();
  }

  async forKey(apiKeyId: string, month: string): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('key_usage_ledger').select(['kind', 'units']).where('api_key_id', '=', apiKeyId).where('month', '=', month).execute();
    return Object.fromEntries(rows.map((r) => [r.kind, r.units]));
  }
}
