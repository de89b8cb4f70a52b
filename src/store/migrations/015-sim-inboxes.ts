import type { Migration } from './types.ts';

/**
 * The virtual network's subscriber phones keep what they receive across restarts: texts and
 * MMS in sim_inbox, each MMS media part's bytes in sim_inbox_media under an opaque id (the
 * admin API serves a part by it). Numbered 15: 14 is left to the retention change.
 */
export const migration015: Migration = {
  version: 15,
  name: 'sim-inboxes',
  up: `
    CREATE TABLE sim_inbox (
      id          INTEGER PRIMARY KEY,
      phone       TEXT NOT NULL,
      channel     TEXT NOT NULL CHECK (channel IN ('sms', 'mms')),
      sender      TEXT NOT NULL,
      subject     TEXT,
      body        TEXT NOT NULL,
      parts       INTEGER NOT NULL,
      received_at TEXT NOT NULL
    );
    CREATE INDEX sim_inbox_phone ON sim_inbox (phone, channel, id);

    CREATE TABLE sim_inbox_media (
      id           TEXT PRIMARY KEY,
      message_id   INTEGER NOT NULL REFERENCES sim_inbox (id) ON DELETE CASCADE,
      seq          INTEGER NOT NULL,
      content_type TEXT NOT NULL,
      name         TEXT,
      size         INTEGER NOT NULL,
      data         BLOB NOT NULL
    );
    CREATE INDEX sim_inbox_media_message ON sim_inbox_media (message_id, seq);
  `,
};
