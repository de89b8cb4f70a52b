import type { Migration } from './types.ts';

/**
 * Fewer B-trees on the send path. Every index on messages and message_parts is written by
 * every send: four of them served only the dashboard or duplicated another, and dropping them
 * took bench:api from ~38 % to ~50 % of a bare route. Their reads moved:
 * - newest first across numbers, and today's counts: per number on messages_by_number, merged;
 * - recent changes (live feed): change notifications from the repository, not a scan;
 * - per-day usage: messages_by_number, which now carries direction and segments after its key
 *   so it covers that query (wider entries in an index every send writes anyway);
 * - the send queue: message_parts_due, in (next_attempt_at, rowid) order. A queued part now
 *   gets its enqueue time as next_attempt_at, so that order is first come, first served,
 *   with a retry due at its retry time.
 */
export const migration010: Migration = {
  version: 10,
  name: 'lean-write-path',
  up: `
    DROP INDEX IF EXISTS messages_by_time;
    DROP INDEX IF EXISTS messages_by_update;
    DROP INDEX IF EXISTS messages_daily_usage;
    DROP INDEX IF EXISTS message_parts_queue;
    DROP INDEX IF EXISTS messages_by_number;
    CREATE INDEX messages_by_number ON messages (number_id, created_at DESC, id DESC, direction, segments);
  `,
};
