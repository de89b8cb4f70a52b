import type { Migration } from '../../migrations/types.ts';

/**
 * The per-API-key token buckets every node of the cluster takes from (the same table as SQLite's
 * 020-rate-buckets). tokens is what was left after the last take; updated_at the epoch ms of the
 * database's clock when it was taken, from which the next take refills.
 */
export const pgMigration003: Migration = {
  version: 3,
  name: 'rate-buckets',
  up: `
    CREATE TABLE rate_buckets (
      key         text COLLATE "C" PRIMARY KEY,
      tokens      double precision NOT NULL,
      updated_at  bigint NOT NULL
    );
    CREATE INDEX rate_buckets_by_age ON rate_buckets (updated_at);
  `,
};
