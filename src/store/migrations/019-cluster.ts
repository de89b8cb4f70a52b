import type { Migration } from './types.ts';

/**
 * Cluster membership and line leases (the same tables as PostgreSQL's 001-cluster, so one
 * repository serves both). Times are epoch ms of the database's clock. A lease row is never
 * deleted, only expired (lease_until 0 on release), so its epoch — the fencing token that rises
 * with every new tenure — never goes back.
 */
export const migration019: Migration = {
  version: 19,
  name: 'cluster',
  up: `
    CREATE TABLE cluster_nodes (
      id            TEXT PRIMARY KEY,
      host          TEXT NOT NULL,
      pid           INTEGER NOT NULL,
      version       TEXT NOT NULL,
      started_at    INTEGER NOT NULL,
      heartbeat_at  INTEGER NOT NULL,
      info          TEXT NOT NULL DEFAULT '{}'
    ) WITHOUT ROWID;

    CREATE TABLE line_leases (
      line_id      TEXT PRIMARY KEY,
      node_id      TEXT NOT NULL,
      lease_until  INTEGER NOT NULL,
      acquired_at  INTEGER NOT NULL,
      epoch        INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX line_leases_by_node ON line_leases (node_id, lease_until);
  `,
};
