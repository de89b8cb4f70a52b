import type { Migration } from './types.ts';

/**
 * Conversations: one row per (number, contact) with its last activity, its read mark and the
 * count of inbound messages after that mark. Triggers keep the row current as messages and calls
 * are written and messages purged, so listing a number's conversations, unread counts included,
 * reads this small table on its index instead of grouping the number's messages. The write path
 * pays one upsert per message for it. unread_count is always the number of inbound messages of
 * the conversation with created_at after read_at (all of them while read_at is NULL).
 */
export const migration017: Migration = {
  version: 17,
  name: 'conversation-reads',
  up: `
    CREATE TABLE conversations (
      number_id     TEXT NOT NULL REFERENCES numbers(id),
      contact       TEXT NOT NULL,
      last_activity TEXT NOT NULL,
      unread_count  INTEGER NOT NULL DEFAULT 0,
      read_at       TEXT,
      PRIMARY KEY (number_id, contact)
    ) WITHOUT ROWID;
    CREATE INDEX conversations_by_activity ON conversations (number_id, last_activity DESC, contact DESC);
    -- A thread's calls, newest first (its messages run on messages_by_contact).
    CREATE INDEX calls_by_contact ON calls (number_id, contact, created_at DESC, id DESC);

    INSERT INTO conversations (number_id, contact, last_activity, unread_count)
      SELECT number_id, contact, MAX(created_at), SUM(inbound) FROM (
        SELECT number_id, contact, created_at, direction = 'inbound' AS inbound FROM messages
        UNION ALL
        SELECT number_id, contact, created_at, 0 FROM calls
      ) GROUP BY number_id, contact;

    CREATE TRIGGER conversations_message_added AFTER INSERT ON messages BEGIN
      INSERT INTO conversations (number_id, contact, last_activity, unread_count)
        VALUES (NEW.number_id, NEW.contact, NEW.created_at, NEW.direction = 'inbound')
        ON CONFLICT (number_id, contact) DO UPDATE SET
          last_activity = max(last_activity, excluded.last_activity),
          unread_count = unread_count + (NEW.direction = 'inbound' AND (read_at IS NULL OR NEW.created_at > read_at));
    END;

    CREATE TRIGGER conversations_call_added AFTER INSERT ON calls BEGIN
      INSERT INTO conversations (number_id, contact, last_activity, unread_count)
        VALUES (NEW.number_id, NEW.contact, NEW.created_at, 0)
        ON CONFLICT (number_id, contact) DO UPDATE SET last_activity = max(last_activity, excluded.last_activity);
    END;

    -- Retention purges messages: an unread one leaves the count, and a conversation left with
    -- neither messages nor calls goes (its last activity and read mark with it).
    CREATE TRIGGER conversations_message_removed AFTER DELETE ON messages BEGIN
      UPDATE conversations SET unread_count = unread_count - 1
        WHERE number_id = OLD.number_id AND contact = OLD.contact
          AND OLD.direction = 'inbound' AND (read_at IS NULL OR OLD.created_at > read_at);
      DELETE FROM conversations
        WHERE number_id = OLD.number_id AND contact = OLD.contact
          AND NOT EXISTS (SELECT 1 FROM messages WHERE contact = OLD.contact AND number_id = OLD.number_id)
          AND NOT EXISTS (SELECT 1 FROM calls WHERE number_id = OLD.number_id AND contact = OLD.contact);
    END;
  `,
};
