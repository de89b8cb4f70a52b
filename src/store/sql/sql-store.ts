import type { Kysely } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/**
 * A store reached through Kysely, so a repository is written once for both dialects. The few
 * places where the dialects differ (the database's clock) ask `dialect`.
 */
export interface SqlStore<DB> {
  readonly dialect: SqlDialect;
  readonly db: Kysely<DB>;
  /** Ends this store's connections (a SQLite store leaves the gateway's shared handle open). */
  close(): Promise<void>;
}
