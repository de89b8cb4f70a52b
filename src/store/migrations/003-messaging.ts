import type { Migration } from './types.ts';

export const migration003: Migration = {
  version: 3,
  name: 'messaging',
  up: `
    CREATE TABLE messages (
      id              TEXT PRIMARY KEY,
      number_id       TEXT NOT NULL REFERENCES numbers(id),
      direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
      channel         TEXT NOT NULL CHECK (channel IN ('sms', 'mms')),
      contact         TEXT NOT NULL,
      body            TEXT NOT NULL,
      media           TEXT NOT NULL DEFAULT '[]',
      status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'received')),
      encoding        TEXT,
      segments        INTEGER NOT NULL,
      partial         INTEGER NOT NULL DEFAULT 0,
      missing_parts   TEXT,
      error_code      TEXT,
      error_message   TEXT,
      reply_to        TEXT,
      dedupe_key      TEXT,
      api_key_id      TEXT,
      created_at      TEXT NOT NULL,
      updated_at      TEXT NOT NULL,
      sent_at         TEXT,
      delivered_at    TEXT
    );
    CREATE INDEX messages_by_number ON messages (number_id, created_at DESC, id DESC);
    -- Partial: most messages have neither, and NULLs would still cost an index entry each.
    CREATE UNIQUE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;
    CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key IS NOT NULL;

    CREATE TABLE message_parts (
      message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
      seq             INTEGER NOT NULL,
      pdu             TEXT NOT NULL,
      tpdu_length     INTEGER NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
      line_id         TEXT,
      mr              INTEGER,
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      error_code      TEXT,
      error_message   TEXT,
      sent_at         TEXT,
      report_status   INTEGER,
      report_at       TEXT,
      PRIMARY KEY (message_id, seq)
    );
    CREATE INDEX message_parts_queue ON message_parts (line_id) WHERE status = 'queued';
    CREATE INDEX message_parts_due ON message_parts (line_id, next_attempt_at) WHERE status = 'queued';
    CREATE INDEX message_parts_by_mr ON message_parts (line_id, mr) WHERE mr IS NOT NULL;

    CREATE TABLE outbox (
      id              TEXT PRIMARY KEY,
      number_id       TEXT NOT NULL REFERENCES numbers(id),
      event           TEXT NOT NULL,
      message_id      TEXT,
      payload         TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      lease_until     INTEGER NOT NULL DEFAULT 0,
      last_status     INTEGER,
      last_error      TEXT,
      created_at      TEXT NOT NULL,
      delivered_at    TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_by_number ON outbox (number_id, created_at DESC);

    CREATE TABLE idempotency_keys (
      api_key_id      TEXT NOT NULL,
      number_id       TEXT NOT NULL,
      idem_key        TEXT NOT NULL,
      request_hash    TEXT NOT NULL,
      message_id      TEXT NOT NULL,
      response        TEXT NOT NULL,
      created_at      INTEGER NOT NULL,
      PRIMARY KEY (api_key_id, number_id, idem_key)
    );

    CREATE TABLE usage_ledger (
      number_id       TEXT NOT NULL REFERENCES numbers(id),
      month           TEXT NOT NULL,
      kind            TEXT NOT NULL,
      units           REAL NOT NULL DEFAULT 0,
      PRIMARY KEY (number_id, month, kind)
    );

    CREATE TABLE key_usage_ledger (
      api_key_id      TEXT NOT NULL,
      month           TEXT NOT NULL,
      kind            TEXT NOT NULL,
      units           REAL NOT NULL DEFAULT 0,
      PRIMARY KEY (api_key_id, month, kind)
    );
  `,
};
