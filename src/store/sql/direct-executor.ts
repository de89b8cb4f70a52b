/**
 * Statements run straight on a connection a transaction holds, skipping Kysely's executor (its
 * connection provider and promise layers): on SQLite the transaction owns the one connection,
 * and a statement on it is a synchronous call. Only a transaction's executor is registered; the
 * root executor always goes through Kysely, which queues it behind a running transaction.
 */
export type DirectExecutor = (sql: string, parameters: readonly unknown[]) => unknown[];

const direct = new WeakMap<object, DirectExecutor>();

/** Marks `tx` (a transaction's Kysely) as one whose statements may run through `execute`. */
export function registerDirect(tx: object, execute: DirectExecutor): void {
  direct.set(tx, execute);
}

/** The direct executor of `db`, when it is a registered transaction. */
export function directExecutorOf(db: object): DirectExecutor | undefined {
  return direct.get(db);
}
