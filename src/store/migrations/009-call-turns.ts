import type { Migration } from './types.ts';

/** Per-turn transcripts of calls: what the caller said, what the agent answered, how much was heard. */
export const migration009: Migration = {
  version: 9,
  name: 'call-turns',
  up: `
    CREATE TABLE call_turns (
      call_id        TEXT NOT NULL REFERENCES calls(id),
      seq            INTEGER NOT NULL,
      caller_text    TEXT NOT NULL,
      dtmf           TEXT,
      action         TEXT NOT NULL,
      agent_reply    TEXT,
      heard_fraction REAL,
      created_at     TEXT NOT NULL,
      PRIMARY KEY (call_id, seq)
    );
  `,
};
