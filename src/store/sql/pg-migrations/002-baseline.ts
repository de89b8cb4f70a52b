import type { Migration } from '../../migrations/types.ts';

/**
 * Every column of text compares byte by byte, as under SQLite's BINARY collation, whatever the
 * database's default collation: ISO timestamps, ids and phone numbers then sort, compare (the
 * triggers' GREATEST, keyset cursors) and index the same way on both dialects.
 */
const TEXT = 'text COLLATE "C"';

/**
 * The SQLite store's schema as it stands after SQLite migrations 001–019 (read from a freshly
 * migrated file, not translated migration by migration), so the repositories can move over
 * table by table. Same tables, columns, keys, foreign keys (and their ON DELETE), CHECKs,
 * UNIQUEs, defaults and (partial) indexes, under the same names. Types: ms timestamps, ids and
 * byte sizes bigint (the pool returns them as numbers), counters integer, flags 0/1 integers as
 * SQLite stores them (so `partial = 1` works on both), BLOB bytea, REAL double precision, ISO
 * timestamps text as on SQLite. A rowid key (`INTEGER PRIMARY KEY`, with or without AUTOINCREMENT)
 * is an identity column; unlike SQLite without AUTOINCREMENT, PostgreSQL never reuses an id.
 * The conversations triggers of SQLite migration 017 are PL/pgSQL trigger functions with the same
 * effect. cluster_nodes and line_leases came with 001 (their text columns move to the same
 * collation here). Not here: schema_version (each runner
 * keeps its own) and sqlite_sequence (SQLite's AUTOINCREMENT bookkeeping).
 * test/store/sql/pg-schema-parity.test.ts holds the two schemas in step.
 */
export const pgMigration002: Migration = {
  version: 2,
  name: 'baseline',
  up: `
    CREATE TABLE numbers (
      id                  ${TEXT} PRIMARY KEY,
      phone_number        ${TEXT} NOT NULL UNIQUE,
      line_id             ${TEXT} UNIQUE,
      label               ${TEXT},
      webhook_url         ${TEXT},
      webhook_secret      ${TEXT} NOT NULL,
      webhook_timeout_ms  integer NOT NULL DEFAULT 10000,
      overage_enabled     integer NOT NULL DEFAULT 0,
      status              ${TEXT} NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
      created_at          ${TEXT} NOT NULL,
      updated_at          ${TEXT} NOT NULL
    );

    CREATE TABLE number_voice_settings (
      number_id        ${TEXT} PRIMARY KEY REFERENCES numbers(id),
      system_prompt    ${TEXT},
      greeting         ${TEXT},
      voice            ${TEXT},
      updated_at       ${TEXT} NOT NULL
    );

    CREATE TABLE api_keys (
      id            ${TEXT} PRIMARY KEY,
      name          ${TEXT} NOT NULL,
      key_hash      bytea NOT NULL UNIQUE,
      key_prefix    ${TEXT} NOT NULL,
      all_numbers   integer NOT NULL,
      created_at    ${TEXT} NOT NULL,
      last_used_at  ${TEXT},
      revoked_at    ${TEXT}
    );

    CREATE TABLE api_key_numbers (
      key_id     ${TEXT} NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
      number_id  ${TEXT} NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
      PRIMARY KEY (key_id, number_id)
    );

    CREATE TABLE messages (
      id              ${TEXT} PRIMARY KEY,
      number_id       ${TEXT} NOT NULL REFERENCES numbers(id),
      direction       ${TEXT} NOT NULL CHECK (direction IN ('inbound', 'outbound')),
      channel         ${TEXT} NOT NULL CHECK (channel IN ('sms', 'mms')),
      contact         ${TEXT} NOT NULL,
      body            ${TEXT} NOT NULL,
      media           ${TEXT} NOT NULL DEFAULT '[]',
      status          ${TEXT} NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'received')),
      encoding        ${TEXT},
      segments        integer NOT NULL,
      partial         integer NOT NULL DEFAULT 0,
      missing_parts   ${TEXT},
      error_code      ${TEXT},
      error_message   ${TEXT},
      reply_to        ${TEXT},
      dedupe_key      ${TEXT},
      api_key_id      ${TEXT},
      created_at      ${TEXT} NOT NULL,
      updated_at      ${TEXT} NOT NULL,
      sent_at         ${TEXT},
      delivered_at    ${TEXT},
      data            bytea,
      ports           ${TEXT}
    );
    CREATE INDEX messages_by_contact ON messages (contact, number_id, created_at DESC, id DESC);
    CREATE INDEX messages_by_number ON messages (number_id, created_at DESC, id DESC, direction, segments);
    CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key IS NOT NULL;
    CREATE UNIQUE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;

    CREATE TABLE message_parts (
      message_id      ${TEXT} NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
      seq             integer NOT NULL,
      pdu             ${TEXT} NOT NULL,
      tpdu_length     integer NOT NULL,
      status          ${TEXT} NOT NULL CHECK (status IN ('queued', 'sending', 'submitting', 'sent', 'delivered', 'failed')),
      line_id         ${TEXT},
      mr              integer,
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at bigint NOT NULL DEFAULT 0,
      error_code      ${TEXT},
      error_message   ${TEXT},
      sent_at         ${TEXT},
      report_status   integer,
      report_at       ${TEXT},
      resubmitted_after_restart integer NOT NULL DEFAULT 0,
      PRIMARY KEY (message_id, seq)
    );
    CREATE INDEX message_parts_awaiting_report ON message_parts (line_id, mr, sent_at) WHERE status = 'sent';
    CREATE INDEX message_parts_due ON message_parts (line_id, next_attempt_at) WHERE status = 'queued';

    CREATE TABLE outbox (
      id              ${TEXT} PRIMARY KEY,
      number_id       ${TEXT} NOT NULL REFERENCES numbers(id),
      event           ${TEXT} NOT NULL,
      message_id      ${TEXT},
      payload         ${TEXT} NOT NULL,
      status          ${TEXT} NOT NULL CHECK (status IN ('pending', 'held', 'delivered', 'dead')),
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at bigint NOT NULL,
      lease_until     bigint NOT NULL DEFAULT 0,
      last_status     integer,
      last_error      ${TEXT},
      created_at      ${TEXT} NOT NULL,
      delivered_at    ${TEXT},
      last_answer     ${TEXT}
    );
    CREATE INDEX outbox_by_number ON outbox (number_id, created_at DESC);
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_held ON outbox (number_id, created_at) WHERE status = 'held';

    CREATE TABLE idempotency_keys (
      api_key_id      ${TEXT} NOT NULL,
      number_id       ${TEXT} NOT NULL,
      idem_key        ${TEXT} NOT NULL,
      request_hash    ${TEXT} NOT NULL,
      message_id      ${TEXT} NOT NULL,
      response        ${TEXT} NOT NULL,
      created_at      bigint NOT NULL,
      PRIMARY KEY (api_key_id, number_id, idem_key)
    );

    CREATE TABLE usage_ledger (
      number_id       ${TEXT} NOT NULL REFERENCES numbers(id),
      month           ${TEXT} NOT NULL,
      kind            ${TEXT} NOT NULL,
      units           double precision NOT NULL DEFAULT 0,
      PRIMARY KEY (number_id, month, kind)
    );

    CREATE TABLE key_usage_ledger (
      api_key_id      ${TEXT} NOT NULL,
      month           ${TEXT} NOT NULL,
      kind            ${TEXT} NOT NULL,
      units           double precision NOT NULL DEFAULT 0,
      PRIMARY KEY (api_key_id, month, kind)
    );

    CREATE TABLE sms_part_sets (
      id               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      line_id          ${TEXT} NOT NULL,
      originator       ${TEXT} NOT NULL,
      ref_bits         integer NOT NULL CHECK (ref_bits IN (8, 16)),
      reference        integer NOT NULL,
      total            integer NOT NULL CHECK (total BETWEEN 1 AND 255),
      first_seen_ms    bigint NOT NULL,
      delivered_at_ms  bigint
    );
    CREATE INDEX sms_part_sets_delivered ON sms_part_sets (delivered_at_ms) WHERE delivered_at_ms IS NOT NULL;
    CREATE INDEX sms_part_sets_first_seen ON sms_part_sets (first_seen_ms) WHERE delivered_at_ms IS NULL;
    CREATE INDEX sms_part_sets_key ON sms_part_sets (line_id, originator, ref_bits, reference, total);
    CREATE UNIQUE INDEX sms_part_sets_open_key
      ON sms_part_sets (line_id, originator, ref_bits, reference, total) WHERE delivered_at_ms IS NULL;

    CREATE TABLE sms_parts (
      set_id          bigint NOT NULL REFERENCES sms_part_sets(id) ON DELETE CASCADE,
      seq             integer NOT NULL CHECK (seq BETWEEN 1 AND 255),
      encoding        ${TEXT} NOT NULL CHECK (encoding IN ('gsm7', 'ucs2', '8bit')),
      text            ${TEXT},
      data            bytea,
      sent_at         ${TEXT},
      pdu             ${TEXT},
      received_at_ms  bigint NOT NULL,
      ports           ${TEXT},
      PRIMARY KEY (set_id, seq)
    );

    CREATE TABLE sms_undecodable (
      id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      line_id      ${TEXT} NOT NULL,
      pdu          ${TEXT} NOT NULL,
      error_code   ${TEXT} NOT NULL,
      error_offset integer NOT NULL,
      reason       ${TEXT} NOT NULL,
      received_at  ${TEXT} NOT NULL,
      UNIQUE (line_id, pdu)
    );

    CREATE TABLE media (
      id              ${TEXT} PRIMARY KEY,
      sha256          ${TEXT} NOT NULL,
      content_type    ${TEXT} NOT NULL,
      size            bigint NOT NULL,
      name            ${TEXT},
      message_id      ${TEXT},
      created_at      bigint NOT NULL,
      expires_at      bigint
    );
    CREATE INDEX media_by_expiry ON media (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX media_by_sha ON media (sha256);

    CREATE TABLE mms_inbound (
      id               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      line_id          ${TEXT} NOT NULL,
      transaction_id   ${TEXT} NOT NULL,
      content_location ${TEXT} NOT NULL,
      sender           ${TEXT},
      size             bigint,
      status           ${TEXT} NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'unfetchable')),
      attempts         integer NOT NULL DEFAULT 0,
      next_attempt_at  bigint NOT NULL DEFAULT 0,
      message_id       ${TEXT},
      error            ${TEXT},
      created_at       bigint NOT NULL,
      UNIQUE (line_id, transaction_id)
    );
    CREATE INDEX mms_inbound_due ON mms_inbound (next_attempt_at) WHERE status = 'pending';

    CREATE TABLE mms_outbound (
      message_id      ${TEXT} PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
      line_id         ${TEXT} NOT NULL,
      transaction_id  ${TEXT} NOT NULL,
      status          ${TEXT} NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at bigint NOT NULL DEFAULT 0,
      mms_message_id  ${TEXT},
      error_code      ${TEXT},
      error_message   ${TEXT}
    );
    CREATE INDEX mms_outbound_by_mms_id ON mms_outbound (line_id, mms_message_id) WHERE mms_message_id IS NOT NULL;
    CREATE INDEX mms_outbound_due ON mms_outbound (next_attempt_at) WHERE status = 'queued';

    CREATE TABLE mms_raw_pushes (
      id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      line_id     ${TEXT} NOT NULL,
      reason      ${TEXT} NOT NULL,
      error_code  ${TEXT},
      error_at    bigint,
      data        bytea NOT NULL,
      created_at  bigint NOT NULL
    );

    CREATE TABLE calls (
      id               ${TEXT} PRIMARY KEY,
      number_id        ${TEXT} NOT NULL REFERENCES numbers(id),
      direction        ${TEXT} NOT NULL CHECK (direction IN ('inbound', 'outbound')),
      contact          ${TEXT} NOT NULL,
      status           ${TEXT} NOT NULL CHECK (status IN ('queued', 'ringing', 'in-progress', 'completed', 'failed', 'canceled', 'refused')),
      sip_call_id      ${TEXT},
      greeting         ${TEXT},
      instructions     ${TEXT},
      end_reason       ${TEXT},
      sip_status       integer,
      error_message    ${TEXT},
      turns            integer NOT NULL DEFAULT 0,
      duration_ms      bigint,
      billable_minutes integer NOT NULL DEFAULT 0,
      api_key_id       ${TEXT},
      created_at       ${TEXT} NOT NULL,
      answered_at      ${TEXT},
      ended_at         ${TEXT}
    );
    CREATE INDEX calls_by_contact ON calls (number_id, contact, created_at DESC, id DESC);
    CREATE INDEX calls_by_number ON calls (number_id, created_at DESC, id DESC);
    CREATE INDEX calls_live ON calls (status) WHERE status IN ('queued', 'ringing', 'in-progress');

    CREATE TABLE call_turns (
      call_id        ${TEXT} NOT NULL REFERENCES calls(id),
      seq            integer NOT NULL,
      caller_text    ${TEXT} NOT NULL,
      dtmf           ${TEXT},
      action         ${TEXT} NOT NULL,
      agent_reply    ${TEXT},
      heard_fraction double precision,
      created_at     ${TEXT} NOT NULL,
      PRIMARY KEY (call_id, seq)
    );

    -- The virtual lines' subscriber inboxes (what a virtual line's far end received).
    CREATE TABLE sim_inbox (
      id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      phone       ${TEXT} NOT NULL,
      channel     ${TEXT} NOT NULL CHECK (channel IN ('sms', 'mms')),
      sender      ${TEXT} NOT NULL,
      subject     ${TEXT},
      body        ${TEXT} NOT NULL,
      parts       integer NOT NULL,
      received_at ${TEXT} NOT NULL
    );
    CREATE INDEX sim_inbox_phone ON sim_inbox (phone, channel, id);

    CREATE TABLE sim_inbox_media (
      id           ${TEXT} PRIMARY KEY,
      message_id   bigint NOT NULL REFERENCES sim_inbox (id) ON DELETE CASCADE,
      seq          integer NOT NULL,
      content_type ${TEXT} NOT NULL,
      name         ${TEXT},
      size         bigint NOT NULL,
      data         bytea NOT NULL
    );
    CREATE INDEX sim_inbox_media_message ON sim_inbox_media (message_id, seq);

    CREATE TABLE opt_outs (
      number_id   ${TEXT} NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
      contact     ${TEXT} NOT NULL,
      state       ${TEXT} NOT NULL CHECK (state IN ('opted_out', 'opted_in')),
      source      ${TEXT} NOT NULL CHECK (source IN ('keyword', 'admin')),
      keyword     ${TEXT},
      actor       ${TEXT} NOT NULL,
      updated_at  ${TEXT} NOT NULL,
      PRIMARY KEY (number_id, contact)
    );

    CREATE TABLE opt_out_audit (
      id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      number_id   ${TEXT} NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
      contact     ${TEXT} NOT NULL,
      action      ${TEXT} NOT NULL CHECK (action IN ('opt_out', 'opt_in')),
      source      ${TEXT} NOT NULL CHECK (source IN ('keyword', 'admin')),
      keyword     ${TEXT},
      actor       ${TEXT} NOT NULL,
      note        ${TEXT},
      at          ${TEXT} NOT NULL
    );
    CREATE INDEX opt_out_audit_by_number ON opt_out_audit (number_id, id);

    -- One row per (number, contact): last activity, read mark, and the count of inbound messages
    -- after that mark, kept current by the triggers below (SQLite migration 017).
    CREATE TABLE conversations (
      number_id     ${TEXT} NOT NULL REFERENCES numbers(id),
      contact       ${TEXT} NOT NULL,
      last_activity ${TEXT} NOT NULL,
      unread_count  integer NOT NULL DEFAULT 0,
      read_at       ${TEXT},
      PRIMARY KEY (number_id, contact)
    );
    CREATE INDEX conversations_by_activity ON conversations (number_id, last_activity DESC, contact DESC);

    CREATE FUNCTION conversations_message_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO conversations AS c (number_id, contact, last_activity, unread_count)
        VALUES (NEW.number_id, NEW.contact, NEW.created_at, (NEW.direction = 'inbound')::integer)
        ON CONFLICT (number_id, contact) DO UPDATE SET
          last_activity = GREATEST(c.last_activity, excluded.last_activity),
          unread_count = c.unread_count
            + (NEW.direction = 'inbound' AND (c.read_at IS NULL OR NEW.created_at > c.read_at))::integer;
      RETURN NULL;
    END $$;
    CREATE TRIGGER conversations_message_added AFTER INSERT ON messages
      FOR EACH ROW EXECUTE FUNCTION conversations_message_added();

    -- Fired after the whole DELETE statement (SQLite fires after each row): with every message of
    -- a conversation deleted at once the first row's call removes the conversation and the rest
    -- find nothing to do; the rows left are the same either way.
    CREATE FUNCTION conversations_message_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE conversations SET unread_count = unread_count - 1
        WHERE number_id = OLD.number_id AND contact = OLD.contact
          AND OLD.direction = 'inbound' AND (read_at IS NULL OR OLD.created_at > read_at);
      DELETE FROM conversations
        WHERE number_id = OLD.number_id AND contact = OLD.contact
          AND NOT EXISTS (SELECT 1 FROM messages WHERE contact = OLD.contact AND number_id = OLD.number_id)
          AND NOT EXISTS (SELECT 1 FROM calls WHERE number_id = OLD.number_id AND contact = OLD.contact);
      RETURN NULL;
    END $$;
    CREATE TRIGGER conversations_message_removed AFTER DELETE ON messages
      FOR EACH ROW EXECUTE FUNCTION conversations_message_removed();

    CREATE FUNCTION conversations_call_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO conversations AS c (number_id, contact, last_activity, unread_count)
        VALUES (NEW.number_id, NEW.contact, NEW.created_at, 0)
        ON CONFLICT (number_id, contact) DO UPDATE SET
          last_activity = GREATEST(c.last_activity, excluded.last_activity);
      RETURN NULL;
    END $$;
    CREATE TRIGGER conversations_call_added AFTER INSERT ON calls
      FOR EACH ROW EXECUTE FUNCTION conversations_call_added();

    -- 001's text columns, under the same collation as the rest.
    ALTER TABLE cluster_nodes
      ALTER COLUMN id TYPE ${TEXT}, ALTER COLUMN host TYPE ${TEXT},
      ALTER COLUMN version TYPE ${TEXT}, ALTER COLUMN info TYPE ${TEXT};
    ALTER TABLE line_leases ALTER COLUMN line_id TYPE ${TEXT}, ALTER COLUMN node_id TYPE ${TEXT};
  `,
};
