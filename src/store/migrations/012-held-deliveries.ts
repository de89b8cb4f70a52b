import type { Migration } from './types.ts';

/**
 * Webhook events held for a number without a URL, and MMS pushes nobody could use.
 *
 * - outbox gets a `held` status: an event for a number with no webhook URL waits there (it
 *   is not a failure) and goes out, oldest first, once a URL is set. SQLite cannot change a
 *   CHECK constraint in place, so the table is rebuilt in rowid order.
 * - mms_inbound gets `unfetchable`: a notification on a line without MMS configured, told to
 *   the agent (mms.unfetchable) instead of waiting as `pending` forever.
 * - mms_raw_pushes keeps the bytes of WAP pushes the decoder refused (or that arrived with
 *   parts missing), so an operator can look at them instead of losing them.
 */
export const migration012: Migration = {
  version: 12,
  name: 'held-deliveries',
  up: `
    CREATE TABLE outbox_012 (
      id              TEXT PRIMARY KEY,
      number_id       TEXT NOT NULL REFERENCES numbers(id),
      event           TEXT NOT NULL,
      message_id      TEXT,
      payload         TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('pending', 'held', 'delivered', 'dead')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      lease_until     INTEGER NOT NULL DEFAULT 0,
      last_status     INTEGER,
      last_error      TEXT,
      created_at      TEXT NOT NULL,
      delivered_at    TEXT
    );
    INSERT INTO outbox_012 SELECT id, number_id, event, message_id, payload, status, attempts, next_attempt_at, lease_until,
      last_status, last_error, created_at, delivered_at FROM outbox ORDER BY rowid;
    DROP TABLE outbox;
    ALTER TABLE outbox_012 RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_by_number ON outbox (number_id, created_at DESC);
    CREATE INDEX outbox_held ON outbox (number_id, created_at) WHERE status = 'held';

    CREATE TABLE mms_inbound_012 (
      id               INTEGER PRIMARY KEY,
      line_id          TEXT NOT NULL,
      transaction_id   TEXT NOT NULL,
      content_location TEXT NOT NULL,
      sender           TEXT,
      size             INTEGER,
      status           TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'unfetchable')),
      attempts         INTEGER NOT NULL DEFAULT 0,
      next_attempt_at  INTEGER NOT NULL DEFAULT 0,
      message_id       TEXT,
      error            TEXT,
      created_at       INTEGER NOT NULL,
      UNIQUE (line_id, transaction_id)
    );
    INSERT INTO mms_inbound_012 SELECT id, line_id, transaction_id, content_location, sender, size, status, attempts,
      next_attempt_at, message_id, error, created_at FROM mms_inbound ORDER BY id;
    DROP TABLE mms_inbound;
    ALTER TABLE mms_inbound_012 RENAME TO mms_inbound;
    CREATE INDEX mms_inbound_due ON mms_inbound (next_attempt_at) WHERE status = 'pending';

    CREATE TABLE mms_raw_pushes (
      id          INTEGER PRIMARY KEY,
      line_id     TEXT NOT NULL,
      reason      TEXT NOT NULL,
      error_code  TEXT,
      error_at    INTEGER,
      data        BLOB NOT NULL,
      created_at  INTEGER NOT NULL
    );
  `,
};
