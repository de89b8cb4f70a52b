/** Subscriber phones' inboxes in the gateway's database (migration 015): they survive a restart. */
import { randomBytes } from 'node:crypto';
import { base62 } from '../../ids/index.ts';
import type { Db } from '../../store/index.ts';
import type { SubscriberInbox, SubscriberMediaPart, SubscriberMessage, SubscriberMms, SubscriberMmsEntry } from './subscriber-inbox.ts';

/** A phone keeps its newest texts and newest MMS up to this many each; older ones are dropped as new ones arrive. */
export const SUBSCRIBER_INBOX_LIMIT = 200;

interface InboxRow {
  id: number;
  phone: string;
  sender: string;
  subject: string | null;
  body: string;
  parts: number;
  received_at: string;
}

interface MediaRow {
  id: string;
  message_id: number;
  content_type: string;
  name: string | null;
  size: number;
}

export class SqliteSubscriberInbox implements SubscriberInbox {
  readonly #stmts;

  constructor(private readonly db: Db) {
    this.#stmts = {
      insert: db.prepare<[string, 'sms' | 'mms', string, string | null, string, number, string]>(
        'INSERT INTO sim_inbox (phone, channel, sender, subject, body, parts, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      trim: db.prepare<[string, 'sms' | 'mms', string, 'sms' | 'mms', number]>(
        `DELETE FROM sim_inbox WHERE phone = ? AND channel = ? AND id < (
           SELECT MIN(id) FROM (SELECT id FROM sim_inbox WHERE phone = ? AND channel = ? ORDER BY id DESC LIMIT ?))`,
      ),
      insertMedia: db.prepare<[string, number, number, string, string | null, number, Uint8Array]>(
        'INSERT INTO sim_inbox_media (id, message_id, seq, content_type, name, size, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      list: db.prepare<[string, 'sms' | 'mms', number], InboxRow>(
        `SELECT * FROM (SELECT id, phone, sender, subject, body, parts, received_at FROM sim_inbox
           WHERE phone = ? AND channel = ? ORDER BY id DESC LIMIT ?) ORDER BY id`,
      ),
      mediaOf: db.prepare<[string, number], MediaRow>(
        `SELECT m.id, m.message_id, m.content_type, m.name, m.size FROM sim_inbox_media m JOIN sim_inbox i ON i.id = m.message_id
           WHERE i.phone = ? AND i.channel = 'mms' AND m.message_id >= ? ORDER BY m.message_id, m.seq`,
      ),
      part: db.prepare<[string], { content_type: string; name: string | null; data: Buffer }>('SELECT content_type, name, data FROM sim_inbox_media WHERE id = ?'),
    };
  }

  addText(m: SubscriberMessage): void {
    this.#add(m.to, 'sms', m.from, null, m.body, m.parts, m.receivedAt);
  }

  texts(phone: string): SubscriberMessage[] {
    return this.#stmts.list
      .all(phone, 'sms', SUBSCRIBER_INBOX_LIMIT)
      .map((r) => ({ from: r.sender, to: r.phone, body: r.body, parts: r.parts, complete: true, receivedAt: r.received_at }));
  }

  addMms(m: SubscriberMms): void {
    this.db.transaction(() => {
      const id = this.#add(m.to, 'mms', m.from, m.subject, m.text, m.media.length, m.receivedAt);
      m.media.forEach((part, seq) => {
        this.#stmts.insertMedia.run(base62(randomBytes(16)), id, seq, part.contentType, part.name, part.data.length, part.data);
      });
    })();
  }

  mms(phone: string): SubscriberMmsEntry[] {
    const rows = this.#stmts.list.all(phone, 'mms', SUBSCRIBER_INBOX_LIMIT);
    const first = rows[0];
    if (!first) return [];
    const media = new Map<number, SubscriberMmsEntry['media']>();
    for (const p of this.#stmts.mediaOf.all(phone, first.id)) {
      media.set(p.message_id, [...(media.get(p.message_id) ?? []), { id: p.id, contentType: p.content_type, name: p.name, size: p.size }]);
    }
    return rows.map((r) => ({ from: r.sender, to: r.phone, subject: r.subject, text: r.body, receivedAt: r.received_at, media: media.get(r.id) ?? [] }));
  }

  mediaPart(id: string): SubscriberMediaPart | undefined {
    const row = this.#stmts.part.get(id);
    return row && { contentType: row.content_type, name: row.name, data: new Uint8Array(row.data) };
  }

  #add(phone: string, channel: 'sms' | 'mms', from: string, subject: string | null, body: string, parts: number, receivedAt: string): number {
    const id = Number(this.#stmts.insert.run(phone, channel, from, subject, body, parts, receivedAt).lastInsertRowid);
    this.#stmts.trim.run(phone, channel, phone, channel, SUBSCRIBER_INBOX_LIMIT);
    return id;
  }
}
