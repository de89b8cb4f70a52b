import type { Migration } from './types.ts';

/** Indexes for the dashboard's reads across numbers: newest first, by contact, per day, and recent changes. */
export const migration007: Migration = {
  version: 7,
  name: 'dashboard',
  up: `
    CREATE INDEX IF NOT EXISTS messages_by_time ON messages (created_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS messages_by_contact ON messages (contact, number_id, created_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS messages_by_update ON messages (updated_at);
    -- Covers the per-day usage query, so it never reads the message rows themselves.
    CREATE INDEX IF NOT EXISTS messages_daily_usage ON messages (number_id, created_at, direction, segments);
  `,
};
