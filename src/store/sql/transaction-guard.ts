import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CompiledQuery,
  PostgresDriver,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Kysely,
  type SqliteDialectConfig,
} from 'kysely';
import { StoreError } from '../../errors/index.ts';

/** Marks the async work inside one store.tx(); `open` once its connection is held. */
interface TxScope {
  open: boolean;
  /** Run once the transaction has committed (dropped if it rolls back). */
  readonly afterCommit: Array<() => void>;
}

const scopes = new AsyncLocalStorage<TxScope>();

/**
 * Runs `fn` as one transaction, marking its async context: a query issued inside it on the root
 * executor instead of the transaction's is refused (see refuseOutsideQuery). On SQLite such a
 * query would wait forever for the one connection the transaction holds; on PostgreSQL it would
 * run on another connection, outside the transaction, and could not see its writes.
 */
export function runTransaction<DB, T>(db: Kysely<DB>, fn: (tx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (scopes.getStore()?.open) throw new StoreError('store.tx() called inside a transaction: pass the transaction on instead');
  const scope: TxScope = { open: false, afterCommit: [] };
  return scopes.run(scope, async () => {
    const result = await db.transaction().execute(fn);
    for (const run of scope.afterCommit.splice(0)) run();
    return result;
  });
}

/**
 * Runs `fn` once the caller's transaction has committed, or now outside one. Listeners that read
 * what a transaction wrote (live feeds) are told this way: inside the transaction their read
 * would be refused, and on PostgreSQL another connection would not see the row yet.
 */
export function afterCommit(fn: () => void): void {
  const scope = scopes.getStore();
  if (scope?.open) scope.afterCommit.push(fn);
  else fn();
}

function refuseOutsideQuery(): void {
  if (scopes.getStore()?.open) {
    throw new StoreError("A query ran on the store's root executor inside a transaction; run it on the transaction's executor");
  }
}

function markOpen(open: boolean): void {
  const scope = scopes.getStore();
  if (scope) scope.open = open;
}

/**
 * Kysely's SQLite driver with two changes: a transaction begins IMMEDIATE (it takes the write
 * lock at BEGIN, so another process writing the file makes it wait its busy timeout instead of
 * failing at its first write with SQLITE_BUSY), and a query outside its transaction fails at once
 * instead of waiting forever for the one connection.
 */
class GuardedSqliteDriver extends SqliteDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    refuseOutsideQuery();
    return super.acquireConnection();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    markOpen(true);
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    markOpen(false);
    await super.commitTransaction(connection);
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    markOpen(false);
    await super.rollbackTransaction(connection);
  }
}

/** SqliteDialect with the guarded driver. */
export function guardedSqliteDialect(config: SqliteDialectConfig): Dialect {
  return {
    createDriver: () => new GuardedSqliteDriver(config),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createAdapter: () => new SqliteAdapter(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  };
}

/** Kysely's PostgreSQL driver, refusing a query outside its transaction as the SQLite one does. */
export class GuardedPostgresDriver extends PostgresDriver {
  override async acquireConnection(): Promise<DatabaseConnection> {
    refuseOutsideQuery();
    return super.acquireConnection();
  }

  override async beginTransaction(...args: Parameters<PostgresDriver['beginTransaction']>): Promise<void> {
    await super.beginTransaction(...args);
    markOpen(true);
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    markOpen(false);
    await super.commitTransaction(connection);
  }

  override async rollbackTransaction(...args: Parameters<PostgresDriver['rollbackTransaction']>): Promise<void> {
    markOpen(false);
    await super.rollbackTransaction(...args);
  }
}
