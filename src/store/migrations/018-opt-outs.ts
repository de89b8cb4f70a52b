import type { Migration } from './types.ts';

/**
 * Opt-out compliance. opt_outs holds each (number, contact)'s current state, keyed so the send
 * path's check is one primary-key lookup; opt_out_audit is the append-only history (who, when,
 * which keyword or admin action) that `agentphone optout export` writes as CSV. Neither is
 * purged by retention: the history is the proof of consent.
 */
export const migration018: Migration = {
  version: 18,
  name: 'opt-outs',
  up: `
    CREATE TABLE opt_outs (
      number_id   TEXT NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
      contact     TEXT NOT NULL,
      state       TEXT NOT NULL CHECK (state IN ('opted_out', 'opted_in')),
      source      TEXT NOT NULL CHECK (source IN ('keyword', 'admin')),
      keyword     TEXT,
      actor       TEXT NOT NULL,
      updated_at  TEXT NOT NULL,
      PRIMARY KEY (number_id, contact)
    ) WITHOUT ROWID;

    CREATE TABLE opt_out_audit (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      number_id   TEXT NOT NULL REFERENCES numbers(id) ON DELETE CASCADE,
      contact     TEXT NOT NULL,
      action      TEXT NOT NULL CHECK (action IN ('opt_out', 'opt_in')),
      source      TEXT NOT NULL CHECK (source IN ('keyword', 'admin')),
      keyword     TEXT,
      actor       TEXT NOT NULL,
      note        TEXT,
      at          TEXT NOT NULL
    );
    CREATE INDEX opt_out_audit_by_number ON opt_out_audit (number_id, id);
  `,
};
