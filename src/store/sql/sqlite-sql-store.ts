import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Db } from '../db.ts';
import type { SqlStore } from './sql-store.ts';

/**
 * A Kysely store over the gateway's own better-sqlite3 handle: the synchronous repositories and
 * this one share the connection, and close() leaves it open for them.
 *
 * Kysely runs each query synchronously on that handle, so a single statement is as atomic as in
 * the synchronous repositories. Kysely transactions are not: between its BEGIN and COMMIT the
 * handle is free for any other caller's statements, which would land inside it. Repositories on
 * this store therefore use single statements (INSERT … ON CONFLICT … RETURNING), not transactions.
 */
export function sqliteSqlStore<DB>(handle: Db): SqlStore<DB> {
  const shared: SqliteDatabase = {
    prepare: (sql) => handle.prepare(sql),
    close: () => undefined,
  };
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: shared }) });
  return { dialect: 'sqlite', db, close: () => db.destroy() };
}
