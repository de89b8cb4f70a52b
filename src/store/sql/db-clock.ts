import { sql, type RawBuilder } from 'kysely';
import type { SqlDialect } from './sql-store.ts';

/**
 * The database's clock in epoch milliseconds, as an expression evaluated by the database. Every
 * node of a cluster compares leases and heartbeats against this one clock, so a node whose own
 * clock drifts cannot keep a lease alive or take one early.
 *
 * One reading per statement on both, so every use within a statement agrees. PostgreSQL:
 * statement_timestamp() (now() would be frozen at the start of the transaction, clock_timestamp()
 * would differ between two uses in one statement). SQLite: unixepoch('subsec') (SQLite 3.42+;
 * better-sqlite3 bundles newer), fixed for the length of one statement.
 */
export function dbNowMs(dialect: SqlDialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from statement_timestamp()) * 1000)::bigint`
    : sql<number>`cast(unixepoch('subsec') * 1000 as integer)`;
}
