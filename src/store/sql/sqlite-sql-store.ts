import { Kysely, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Db } from '../db.ts';
import type { SqlStore } from './sql-store.ts';
import { registerDirect, type DirectExecutor } from './direct-executor.ts';
import { guardedSqliteDialect, runTransaction } from './transaction-guard.ts';

/** Statements kept prepared per store: more than the repositories' distinct queries. */
const STATEMENT_CACHE = 512;

/**
 * A Kysely store over the gateway's own better-sqlite3 handle. SQLite has one connection: Kysely
 * queues every query and transaction for it, so a transaction sees no other caller's statements.
 * Statements are prepared once per SQL text (Kysely would prepare one per query).
 *
 * close() leaves the handle open: whoever opened it closes it.
 */
export function sqliteSqlStore<DB>(handle: Db): SqlStore<DB> {
  const prepared = new Map<string, SqliteStatement>();
  const shared: SqliteDatabase = {
    prepare: (text) => {
      let statement = prepared.get(text);
      if (statement === undefined) {
        statement = handle.prepare(text) as unknown as SqliteStatement;
        if (prepared.size >= STATEMENT_CACHE) prepared.delete(prepared.keys().next().value as string);
        prepared.set(text, statement);
      }
      return statement;
    },
    close: () => undefined,
  };
  const db = new Kysely<DB>({ dialect: guardedSqliteDialect({ database: shared }) });
  // Inside a transaction the connection is the transaction's: its prepared statements run on it directly.
  const execute: DirectExecutor = (text, parameters) => {
    const statement = shared.prepare(text);
    if (statement.reader) return statement.all(parameters) as unknown[];
    statement.run(parameters);
    return [];
  };
  return {
    dialect: 'sqlite',
    db,
    tx: (fn) =>
      runTransaction(db, (tx) => {
        registerDirect(tx, execute);
        return fn(tx);
      }),
    close: () => db.destroy(),
  };
}
