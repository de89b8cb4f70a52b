import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NumberService } from '../../src/numbers/index.ts';
import { DashboardRepository, MessagesRepository, NumbersRepository, openDatabase } from '../../src/store/index.ts';
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

  function setup() {
    const db = openDatabase(join(tempDir(), 'm.db'));
    const numbers = new NumberService(new NumbersRepository(db), { now: () => 0 });
    const a = numbers.lineFound('l1', '+15550000001');
    const b = numbers.lineFound('l2', '+15550000002');
    const messages = new MessagesRepository(db);
    const outbound = (id: string, numberId: string, second: number, contact = '+15557654321') =>
      messages.insert({
        id,
        numberId,
        direction: 'outbound',
        channel: 'sms',
        contact,
        body: `m ${id}`,
        media: [],
        status: 'queued',
        encoding: 'gsm7',
        segments: 1,
        createdAt: new Date(Date.UTC(2026, 10, 28, 0, 0, second)).toISOString(),
      });
    return { db, a, b, messages, outbound };
  }

  it('tells listeners of each message written or changed, until they unsubscribe', () => {
    const { db, a, messages, outbound } = setup();
    const heard: string[] = [];
    const off = messages.onChange((id) => heard.push(id));
    outbound('msg_1', a.id, 1);
    messages.setStatus('msg_1', { status: 'sent', at: '2026-11-28T00:00:02.000Z' });
    off();
    outbound('msg_2', a.id, 3);
    expect(heard).toEqual(['msg_1', 'msg_1']);
    db.close();
  });

  it('lists across numbers newest first by merging each number’s own run, and pages with the cursor', () => {
    const { db, a, b, outbound } = setup();
    [1, 3, 5].forEach((sec) => outbound(`msg_a${sec}`, a.id, sec));
    [2, 4, 6].forEach((sec) => outbound(`msg_b${sec}`, b.id, sec, '+15559990000'));
    const dashboard = new DashboardRepository(db);
    expect(dashboard.messageIds({ limit: 4 })).toEqual(['msg_b6', 'msg_a5', 'msg_b4', 'msg_a3']);
    const before = { createdAt: new Date(Date.UTC(2026, 10, 28, 0, 0, 3)).toISOString(), id: 'msg_a3' };
    expect(dashboard.messageIds({ limit: 4, before })).toEqual(['msg_b2', 'msg_a1']);
    expect(dashboard.messageIds({ limit: 10, contact: '+15559990000' })).toEqual(['msg_b6', 'msg_b4', 'msg_b2']);
    expect(dashboard.countSince(new Date(Date.UTC(2026, 10, 28, 0, 0, 4)).toISOString())).toEqual({ inbound: 0, outbound: 3 });
    db.close();
  });

  it('hands out queued parts first come, first served, a retry when it falls due', () => {
    const { db, a, messages, outbound } = setup();
    ['msg_1', 'msg_2', 'msg_3'].forEach((id, i) => {
      outbound(id, a.id, i);
      messages.insertPart({ messageId: id, seq: 1, pdu: '00', tpduLength: 1, lineId: 'l1', queuedAt: 1000 + 2 * i });
    });
    expect(messages.claimDueParts('l1', 5000, 1).map((p) => p.messageId)).toEqual(['msg_1']);
    messages.retryPart('msg_1', 1, 1003, 'TEMP', 'try again');
    // msg_1's retry is due between msg_2 and msg_3's enqueue times; not before it is due.
    expect(messages.claimDueParts('l1', 1002, 5).map((p) => p.messageId)).toEqual(['msg_2']);
    expect(messages.claimDueParts('l1', 5000, 5).map((p) => p.messageId)).toEqual(['msg_1', 'msg_3']);
    db.close();
  });
});
