import type { Migration } from './types.ts';

/**
 * Concatenated-SMS parts awaiting their siblings. A set is keyed by (line, originator,
 * reference size, reference, total); a delivered set stays as a tombstone for a while so a
 * late duplicate part is recognised rather than starting a new message.
 */
export const migration002: Migration = {
  version: 2,
  name: 'sms-parts',
  up: `
    CREATE TABLE sms_part_sets (
      id               INTEGER PRIMARY KEY,
      line_id          TEXT NOT NULL,
      originator       TEXT NOT NULL,
      ref_bits         INTEGER NOT NULL CHECK (ref_bits IN (8, 16)),
      reference        INTEGER NOT NULL,
      total            INTEGER NOT NULL CHECK (total BETWEEN 1 AND 255),
      first_seen_ms    INTEGER NOT NULL,
      delivered_at_ms  INTEGER
    );
    CREATE UNIQUE INDEX sms_part_sets_open_key
      ON sms_part_sets (line_id, originator, ref_bits, reference, total) WHERE delivered_at_ms IS NULL;
    CREATE INDEX sms_part_sets_key ON sms_part_sets (line_id, originator, ref_bits, reference, total);
    CREATE INDEX sms_part_sets_first_seen ON sms_part_sets (first_seen_ms) WHERE delivered_at_ms IS NULL;
    CREATE INDEX sms_part_sets_delivered ON sms_part_sets (delivered_at_ms) WHERE delivered_at_ms IS NOT NULL;

    CREATE TABLE sms_parts (
      set_id          INTEGER NOT NULL REFERENCES sms_part_sets(id) ON DELETE CASCADE,
      seq             INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 255),
      encoding        TEXT NOT NULL CHECK (encoding IN ('gsm7', 'ucs2', '8bit')),
      text            TEXT,
      data            BLOB,
      sent_at         TEXT,
      pdu             TEXT,
      received_at_ms  INTEGER NOT NULL,
      PRIMARY KEY (set_id, seq)
    );
  `,
};
