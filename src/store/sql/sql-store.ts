import type { Kysely } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/**
 * A store reached through Kysely, so a repository is written once for both dialects. The few
 * places where the dialects differ (the database's clock) ask `dialect`.
 */
export interface SqlStore<DB> {
  readonly dialect: SqlDialect;
  /** The root executor: each query on it runs alone (autocommit). */
  readonly db: Kysely<DB>;
  /**
   * Runs `fn` in one transaction, committed when its promise resolves and rolled back when it
   * rejects. Every query of the unit goes through `tx`: one on `db` inside it is refused with a
   * StoreError. `fn` does only database work (no network waits): on SQLite it holds the one
   * connection. On SQLite the transaction begins IMMEDIATE; on PostgreSQL it is READ COMMITTED,
   * so a read-then-write that must not race another node locks its rows (FOR UPDATE).
   */
  tx<T>(fn: (tx: Kysely<DB>) => Promise<T>): Promise<T>;
  /** Ends this store's connections (a SQLite store leaves the gateway's shared handle open). */
  close(): Promise<void>;
}
