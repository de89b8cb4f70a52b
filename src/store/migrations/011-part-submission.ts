import type { Migration } from './types.ts';

/**
 * Outbound parts get a `submitting` state, and reports are matched among the parts still
 * waiting for one.
 *
 * - `submitting` is written (and committed) just before AT+CMGS goes to the modem, so after a
 *   crash the store tells a part that never reached the modem (`sending`: requeued as is) from
 *   one the modem may have accepted (`submitting`: resent, at least once, and counted in
 *   `resubmitted_after_restart`). SQLite cannot change a CHECK constraint in place, so the
 *   table is rebuilt; rows keep their order (the queue's tie-break is rowid).
 * - message_parts_by_mr held every part ever sent; a report needs only the parts still
 *   waiting for one, by (line, MR) and in sending order: message_parts_awaiting_report.
 */
export const migration011: Migration = {
  version: 11,
  name: 'part-submission',
  up: `
    CREATE TABLE message_parts_011 (
      message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
      seq             INTEGER NOT NULL,
      pdu             TEXT NOT NULL,
      tpdu_length     INTEGER NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'submitting', 'sent', 'delivered', 'failed')),
      line_id         TEXT,
      mr              INTEGER,
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      error_code      TEXT,
      error_message   TEXT,
      sent_at         TEXT,
      report_status   INTEGER,
      report_at       TEXT,
      resubmitted_after_restart INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (message_id, seq)
    );
    INSERT INTO message_parts_011 (message_id, seq, pdu, tpdu_length, status, line_id, mr, attempts, next_attempt_at,
        error_code, error_message, sent_at, report_status, report_at)
      SELECT message_id, seq, pdu, tpdu_length, status, line_id, mr, attempts, next_attempt_at,
        error_code, error_message, sent_at, report_status, report_at
      FROM message_parts ORDER BY rowid;
    DROP TABLE message_parts;
    ALTER TABLE message_parts_011 RENAME TO message_parts;
    CREATE INDEX message_parts_due ON message_parts (line_id, next_attempt_at) WHERE status = 'queued';
    CREATE INDEX message_parts_awaiting_report ON message_parts (line_id, mr, sent_at) WHERE status = 'sent';
  `,
};
