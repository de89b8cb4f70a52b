import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVirtualNetwork, SqliteSubscriberInbox, SUBSCRIBER_INBOX_LIMIT } from '../../../src/modem/index.ts';
import { encodeSubmit } from '../../../src/sms/index.ts';
import { openDatabase } from '../../../src/store/index.ts';
import { useTempDir } from '../../helpers/temp-dir.ts';

const PHONE = '+15557654321';
const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();

describe('SqliteSubscriberInbox (a real SQLite file)', () => {
  const tempDir = useTempDir();

  it('reads back texts and MMS (parts by id, type, name and size; bytes by id) after the file is reopened', () => {
    const file = join(tempDir(), 'a.db');
    const first = openDatabase(file);
    const inbox = new SqliteSubscriberInbox(first);
    inbox.addText({ from: '+15550000001', to: PHONE, body: 'hi', parts: 2, complete: true, receivedAt: at(1) });
    inbox.addMms({
      from: '+15550000001',
      to: PHONE,
      subject: 'look',
      text: 'two',
      media: [
        { contentType: 'image/png', name: 'a.png', data: new Uint8Array([1, 2, 3]) },
        { contentType: 'text/vcard', name: null, data: new Uint8Array([4]) },
      ],
      receivedAt: at(2),
    });
    inbox.addText({ from: '+15550000001', to: '+15550009999', body: 'someone else', parts: 1, complete: true, receivedAt: at(3) });
    first.close();

    const again = new SqliteSubscriberInbox(openDatabase(file));
    expect(again.texts(PHONE)).toEqual([{ from: '+15550000001', to: PHONE, body: 'hi', parts: 2, complete: true, receivedAt: at(1) }]);
    const [mms] = again.mms(PHONE);
    expect(mms).toMatchObject({ from: '+15550000001', to: PHONE, subject: 'look', text: 'two', receivedAt: at(2) });
    expect(mms!.media.map((p) => [p.contentType, p.name, p.size])).toEqual([['image/png', 'a.png', 3], ['text/vcard', null, 1]]);
    expect(mms!.media[0]!.id).toMatch(/^[0-9A-Za-z]{16,32}$/);
    expect(again.mediaPart(mms!.media[0]!.id)).toEqual({ contentType: 'image/png', name: 'a.png', data: new Uint8Array([1, 2, 3]) });
    expect(again.mediaPart('nope')).toBeUndefined();
    expect(again.mms('+15550009999')).toEqual([]);
  });

  it(`keeps the newest ${SUBSCRIBER_INBOX_LIMIT} of each channel per phone, dropping older MMS with their media`, () => {
    const db = openDatabase(join(tempDir(), 'a.db'));
    const inbox = new SqliteSubscriberInbox(db);
    const total = SUBSCRIBER_INBOX_LIMIT + 5;
    for (let i = 0; i < total; i++) {
      inbox.addText({ from: '+15550000001', to: PHONE, body: `t${i}`, parts: 1, complete: true, receivedAt: at(i) });
      inbox.addMms({ from: '+15550000001', to: PHONE, subject: null, text: `m${i}`, media: [{ contentType: 'image/png', name: null, data: new Uint8Array([i & 0xff]) }], receivedAt: at(i) });
    }
    const texts = inbox.texts(PHONE);
    expect(texts).toHaveLength(SUBSCRIBER_INBOX_LIMIT);
    expect(texts[0]!.body).toBe('t5');
    expect(texts.at(-1)!.body).toBe(`t${total - 1}`);
    const mms = inbox.mms(PHONE);
    expect(mms.map((m) => m.text)).toEqual(Array.from({ length: SUBSCRIBER_INBOX_LIMIT }, (_, i) => `m${i + 5}`));
    expect(mms.every((m) => m.media.length === 1)).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS n FROM sim_inbox_media').get()).toEqual({ n: SUBSCRIBER_INBOX_LIMIT });
  });
});

describe('a virtual network closed with deliveries in flight', () => {
  const tempDir = useTempDir();

  it('delivers nothing after close (the gateway closes the store right after it: a write then threw out of a timer)', async () => {
    const db = openDatabase(join(tempDir(), 'b.db'));
    const network = createVirtualNetwork({ deliverLatency: { minMs: 50, maxMs: 50 }, reportLatency: { minMs: 50, maxMs: 50 }, inbox: new SqliteSubscriberInbox(db) });
    const modem = network.addLine({ lineId: 'l1', number: '+15550000001' });
    const [pdu] = encodeSubmit({ to: PHONE, text: 'in flight', requestStatusReport: true });
    await network.submit(modem, pdu!.hex);
    network.close();
    db.close();
    await new Promise((r) => setTimeout(r, 150)); // past the delivery's due time: an uncaught throw would fail the run
    const reopened = openDatabase(join(tempDir(), 'b.db'));
    expect(new SqliteSubscriberInbox(reopened).texts(PHONE)).toEqual([]);
    reopened.close();
  });
});
