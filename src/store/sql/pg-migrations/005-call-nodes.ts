import type { Migration } from '../../migrations/types.ts';

/**
 * The node a call lives on (the same column and indexes as SQLite's 022-call-nodes). NULL on an
 * outbound call still queued: no node has taken it yet. A voice node claims it (sets node_id)
 * before dialling; calls left live on a dead node are found by it.
 */
export const pgMigration005: Migration = {
  version: 5,
  name: 'call-nodes',
  up: `
    ALTER TABLE calls ADD COLUMN node_id text COLLATE "C";
    CREATE INDEX calls_unclaimed ON calls (created_at) WHERE status = 'queued' AND node_id IS NULL;
    CREATE INDEX calls_live_by_node ON calls (node_id) WHERE status IN ('queued', 'ringing', 'in-progress');
  `,
};
