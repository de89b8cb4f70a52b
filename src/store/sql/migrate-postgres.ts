import { sql, type Kysely } from 'kysely';
import { StoreError } from '../../errors/index.ts';
import type { Migration } from '../migrations/types.ts';
import { pendingMigrations, refuseNewerSchema } from '../schema-version.ts';
import type { SqlStore } from './sql-store.ts';

/**
 * The advisory lock every AgentPhone node takes to migrate ("AgPhone1" in ASCII): one fixed key,
 * so nodes starting together queue behind each other instead of racing.
 */
export const MIGRATION_LOCK_KEY = 0x4167_5068_6f6e_6531n;

/**
 * Applies the pending PostgreSQL migrations; returns the versions this call applied. The whole
 * run holds pg_advisory_lock on one connection, so of several nodes starting at once one applies
 * each migration and the others find it recorded. A database written by a newer release is
 * refused untouched. Each migration runs in its own transaction with its schema_version row.
 */
export async function migratePostgres<DB>(store: SqlStore<DB>, migrations: readonly Migration[]): Promise<number[]> {
  if (store.dialect !== 'postgres') throw new StoreError(`migratePostgres needs a PostgreSQL store, not ${store.dialect}`);
  return store.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.execute(conn);
    try {
      return await applyPending(conn, migrations);
    } finally {
      // Released with the session too, should this connection die first.
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.execute(conn).catch(() => undefined);
    }
  });
}

async function applyPending<DB>(conn: Kysely<DB>, migrations: readonly Migration[]): Promise<number[]> {
  await sql`create table if not exists schema_version (
    version integer primary key, name text not null, applied_at text not null)`.execute(conn);
  const { rows } = await sql<{ version: number }>`select version from schema_version`.execute(conn);
  refuseNewerSchema(rows.reduce((max, r) => Math.max(max, r.version), 0), migrations);
  const pending = pendingMigrations(migrations, rows.map((r) => r.version));
  for (const m of pending) {
    // On this one connection (the one holding the lock), so plain BEGIN/COMMIT, not a pooled transaction.
    await sql`begin`.execute(conn);
    try {
      await sql.raw(m.up).execute(conn);
      await sql`insert into schema_version (version, name, applied_at) values (${m.version}, ${m.name}, ${new Date().toISOString()})`.execute(conn);
      await sql`commit`.execute(conn);
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw new StoreError(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return pending.map((m) => m.version);
}
