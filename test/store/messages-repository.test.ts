import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NumberService } from '../../src/numbers/index.ts';
import { MessagesRepository, NumbersRepository, openDatabase } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

describe('messages repository', () => {
  const tempDir = useTempDir();

  it('stores a received message once per dedupe key, and allows one reply per event', () => {
    const db = openDatabase(join(tempDir(), 'm.db'));
    const number = new NumberService(new NumbersRepository(db), { now: () => 0 }).lineFound('l1', '+15550000001');
    const messages = new MessagesRepository(db);
    const inbound = (id: string) =>
      messages.insertInbound({
        id,
        numberId: number.id,
        channel: 'sms',
        contact: '+15557654321',
        body: 'hi',
        media: [],
        encoding: 'gsm7',
        segments: 1,
        partial: false,
        missingParts: [],
        dedupeKey: 'same-pdu',
        createdAt: '2026-11-28T00:00:00.000Z',
      });
    expect(inbound('msg_1')).toBe(true);
    expect(inbound('msg_2')).toBe(false);
    const outbound = (id: string, replyTo: string | null) =>
      messages.insert({
        id,
        numberId: number.id,
        direction: 'outbound',
        channel: 'sms',
        contact: '+15557654321',
        body: 'reply',
        media: [],
        status: 'queued',
        encoding: 'gsm7',
        segments: 1,
        replyTo,
        createdAt: '2026-11-28T00:00:01.000Z',
      });
    outbound('msg_3', null);
    outbound('msg_4', null);
    outbound('msg_5', 'evt_1');
    expect(() => outbound('msg_6', 'evt_1')).toThrow(/UNIQUE/);
    expect(messages.getByReplyTo('evt_1')?.id).toBe('msg_5');
    db.close();
  });
});
