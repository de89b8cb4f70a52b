import type { Migration } from './types.ts';

export const migration008: Migration = {
  version: 8,
  name: 'calls',
  up: `
    CREATE TABLE calls (
      id               TEXT PRIMARY KEY,
      number_id        TEXT NOT NULL REFERENCES numbers(id),
      direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
      contact          TEXT NOT NULL,
      status           TEXT NOT NULL CHECK (status IN ('queued', 'ringing', 'in-progress', 'completed', 'failed', 'canceled', 'refused')),
      sip_call_id      TEXT,
      greeting         TEXT,
      instructions     TEXT,
      end_reason       TEXT,
      sip_status       INTEGER,
      error_message    TEXT,
      turns            INTEGER NOT NULL DEFAULT 0,
      duration_ms      INTEGER,
      billable_minutes INTEGER NOT NULL DEFAULT 0,
      api_key_id       TEXT,
      created_at       TEXT NOT NULL,
      answered_at      TEXT,
      ended_at         TEXT
    );
    CREATE INDEX calls_by_number ON calls (number_id, created_at DESC, id DESC);
    CREATE INDEX calls_live ON calls (status) WHERE status IN ('queued', 'ringing', 'in-progress');

    CREATE TABLE number_voice_settings (
      number_id        TEXT PRIMARY KEY REFERENCES numbers(id),
      system_prompt    TEXT,
      greeting         TEXT,
      voice            TEXT,
      updated_at       TEXT NOT NULL
    );
  `,
};
