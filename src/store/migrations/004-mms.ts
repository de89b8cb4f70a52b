import type { Migration } from './types.ts';

/** MMS: stored media (content-addressed files), outbound MMS sends and inbound notifications. */
export const migration004: Migration = {
  version: 4,
  name: 'mms',
  up: `
    CREATE TABLE media (
      id              TEXT PRIMARY KEY,
      sha256          TEXT NOT NULL,
      content_type    TEXT NOT NULL,
      size            INTEGER NOT NULL,
      name            TEXT,
      message_id      TEXT,
      created_at      INTEGER NOT NULL,
      expires_at      INTEGER
    );
    CREATE INDEX media_by_sha ON media (sha256);
    CREATE INDEX media_by_expiry ON media (expires_at) WHERE expires_at IS NOT NULL;

    CREATE TABLE mms_outbound (
      message_id      TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
      line_id         TEXT NOT NULL,
      transaction_id  TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      mms_message_id  TEXT,
      error_code      TEXT,
      error_message   TEXT
    );
    CREATE INDEX mms_outbound_due ON mms_outbound (next_attempt_at) WHERE status = 'queued';
    CREATE INDEX mms_outbound_by_mms_id ON mms_outbound (line_id, mms_message_id) WHERE mms_message_id IS NOT NULL;

    CREATE TABLE mms_inbound (
      id               INTEGER PRIMARY KEY,
      line_id          TEXT NOT NULL,
      transaction_id   TEXT NOT NULL,
      content_location TEXT NOT NULL,
      sender           TEXT,
      size             INTEGER,
      status           TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
      attempts         INTEGER NOT NULL DEFAULT 0,
      next_attempt_at  INTEGER NOT NULL DEFAULT 0,
      message_id       TEXT,
      error            TEXT,
      created_at       INTEGER NOT NULL,
      UNIQUE (line_id, transaction_id)
    );
    CREATE INDEX mms_inbound_due ON mms_inbound (next_attempt_at) WHERE status = 'pending';
  `,
};
