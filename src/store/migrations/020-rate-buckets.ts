import type { Migration } from './types.ts';

/**
 * The per-API-key token buckets the nodes of a PostgreSQL cluster share (PostgreSQL's
 * 003-rate-buckets; here for schema parity, since one node on SQLite keeps its buckets in memory).
 * tokens is what was left after the last take; updated_at the epoch ms of the database's clock
 * when it was taken, from which the next take refills.
 */
export const migration020: Migration = {
  version: 20,
  name: 'rate-buckets',
  up: `
    CREATE TABLE rate_buckets (
      key         TEXT PRIMARY KEY,
      tokens      REAL NOT NULL,
      updated_at  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX rate_buckets_by_age ON rate_buckets (updated_at);
  `,
};
