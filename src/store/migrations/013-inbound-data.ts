import type { Migration } from './types.ts';

/**
 * Inbound SMS keep what they carried besides text, and undecodable PDUs are kept, not left.
 *
 * - messages.data / messages.ports: the bytes of an 8-bit (data) message, parts joined, and
 *   the application ports of a port-addressed one ({"source","destination"} as JSON).
 * - sms_parts.ports: a part's ports, so a set delivered partial after the timeout still knows them.
 * - sms_undecodable: PDUs the decoder refused, as received, with where and why it stopped. Left
 *   on the modem they took a storage slot for good and were read again after every reconnect.
 */
export const migration013: Migration = {
  version: 13,
  name: 'inbound-data',
  up: `
    ALTER TABLE messages ADD COLUMN data BLOB;
    ALTER TABLE messages ADD COLUMN ports TEXT;
    ALTER TABLE sms_parts ADD COLUMN ports TEXT;

    CREATE TABLE sms_undecodable (
      id           INTEGER PRIMARY KEY,
      line_id      TEXT NOT NULL,
      pdu          TEXT NOT NULL,
      error_code   TEXT NOT NULL,
      error_offset INTEGER NOT NULL,
      reason       TEXT NOT NULL,
      received_at  TEXT NOT NULL,
      UNIQUE (line_id, pdu)
    );
  `,
};
