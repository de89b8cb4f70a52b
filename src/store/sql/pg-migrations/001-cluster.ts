import type { Migration } from '../../migrations/types.ts';

/**
 * Cluster membership and line leases (the same tables as SQLite's 019-cluster, so one
 * repository serves both). Times are epoch ms of the database's clock; info is JSON as text,
 * as on SQLite. A lease row is never deleted, only expired, so its epoch never goes back.
 */
export const pgMigration001: Migration = {
  version: 1,
  name: 'cluster',
  up: `
    CREATE TABLE cluster_nodes (
      id            text PRIMARY KEY,
      host          text NOT NULL,
      pid           integer NOT NULL,
      version       text NOT NULL,
      started_at    bigint NOT NULL,
      heartbeat_at  bigint NOT NULL,
      info          text NOT NULL DEFAULT '{}'
    );

    CREATE TABLE line_leases (
      line_id      text PRIMARY KEY,
      node_id      text NOT NULL,
      lease_until  bigint NOT NULL,
      acquired_at  bigint NOT NULL,
      epoch        integer NOT NULL
    );
    CREATE INDEX line_leases_by_node ON line_leases (node_id, lease_until);
  `,
};
