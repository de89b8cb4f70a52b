import type { Migration } from './types.ts';

export const migration001: Migration = {
  version: 1,
  name: 'foundation',
  up: `
    CREATE TABLE numbers (
      id                  TEXT PRIMARY KEY,
      phone_number        TEXT NOT NULL UNIQUE,
      line_id             TEXT UNIQUE,
      label               TEXT,
      webhook_url         TEXT,
      webhook_secret      TEXT NOT NULL,
      webhook_timeout_ms  INTEGER NOT NULL DEFAULT 10000,
      overage_enabled     INTEGER NOT NULL DEFAULT 0,
      status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
      created_at          TEXT NOT NULL,
      updated_at          TEXT NOT NULL
    );

    CREATE TABLE api_keys (
      id            TEXT PRIMARY KEY,
      name          TEXT NOT NULL,
      key_hash      BLOB NOT NULL UNIQUE,
      key_prefix    TEXT NOT NULL,
      all_numbers   INTEGER NOT NULL,
      created_at    TEXT NOT NULL,
      last_used_at  TEXT,
      revoked_at    TEXT
    );

    CREATE TABLE api_key_numbers (
      key_id     TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
      number_id  TEXT NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
      PRIMARY KEY (key_id, number_id)
    );
  `,
};
