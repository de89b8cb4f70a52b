/**
 * MmsService over the SQL store, on both dialects: sends claimed by two nodes go out once each,
 * and a WAP push accepted inside the receiver's transaction becomes one stored message and event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging/index.ts';
import {
  AddressPolicy,
  encodeMms,
  encodeWapPush,
  MediaFetcher,
  FileMediaStore,
  MmsService,
  toMmsAddress,
  type MmsPdu,
  type MmsStatusRecorder,
  type MmsTransport,
} from '../../src/mms/index.ts';
import { MessagesRepository, NumbersRepository, openPostgresStore, type Database, type SqlStore } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';
import { until } from '../helpers/wait.ts';

const LINE = 'line-a';
const SENDER = '+15557654321';

/** An MMSC that answers at once and counts what it was sent. */
class CountingMmsc implements MmsTransport {
  readonly kind = 'http' as const;
  readonly sent: string[] = [];
  readonly responses: string[] = [];

  async send(req: MmsPdu) {
    this.sent.push(req.transactionId ?? '');
    return { transactionId: req.transactionId ?? '', responseStatus: 128, messageId: `mmsc-${this.sent.length}` };
  }

  async retrieve(contentLocation: string): Promise<MmsPdu> {
    return {
      type: 'm-retrieve-conf',
      transactionId: contentLocation,
      version: '1.2',
      from: toMmsAddress(SENDER),
      date: new Date(Date.UTC(2026, 0, 1)),
      contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: {} },
      parts: [{ contentType: 'text/plain', charset: 'utf-8', data: new TextEncoder().encode('a photo for you') }],
    };
  }

  async notifyResponse(transactionId: string): Promise<void> {
    this.responses.push(transactionId);
  }
}

/** Sets the message's status on the caller's transaction, as the real tracker does. */
const tracker: MmsStatusRecorder = {
  async record(tx: Kysely<Database>, messageId, status) {
    await tx.updateTable('messages').set({ status }).where('id', '=', messageId).execute();
    return false;
  },
};

function notificationPush(transactionId: string): Uint8Array {
  return encodeWapPush({
    transactionId: 1,
    body: encodeMms({
      type: 'm-notification-ind',
      transactionId,
      version: '1.2',
      from: toMmsAddress(SENDER),
      messageClass: 'personal',
      messageSize: 2000,
      expiry: { relativeSeconds: 3600 },
      contentLocation: `http://mmsc.test/${transactionId}`,
    }),
  });
}

describeOnEachDialect('MmsService on the SQL store', (open) => {
  let t: TestStore;
  let dir: string;
  const services: MmsService[] = [];
  const stores: SqlStore<Database>[] = [];

  beforeEach(async () => {
    t = await open();
    dir = mkdtempSync(join(tmpdir(), 'agentphone-mms-'));
    const at = new Date().toISOString();
    await t.store.db
      .insertInto('numbers')
      .values({ id: 'num_1', phone_number: '+15550001111', line_id: LINE, webhook_secret: 'whsec_test', created_at: at, updated_at: at })
      .execute();
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    for (const s of stores.splice(0)) await s.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A node: its own store on PostgreSQL (own connections), the same one on SQLite. */
  async function node(mmsc: MmsTransport, name: string): Promise<MmsService> {
    let store = t.store;
    if (t.url && services.length > 0) {
      store = await openPostgresStore<Database>({ url: t.url });
      stores.push(store);
    }
    const clock = { now: () => Date.now() };
    const service = new MmsService({
      store,
      messages: new MessagesRepository(store.db),
      numbers: (db) => new NumbersRepository(db),
      ledger: { recordInbound: async () => undefined },
      tracker,
      webhooks: { notify: () => undefined },
      media: new FileMediaStore({ dir: join(dir, 'media'), store, clock, retentionDays: 0, baseUrl: () => 'https://gw.test' }),
      clock,
      logger: silentLogger(),
      transport: () => mmsc,
      maxMessageBytes: () => 300_000,
      readyLines: () => [LINE],
      fetcher: new MediaFetcher({
        dir: join(dir, `fetch-${name}`),
        limits: { maxFileBytes: 1000, timeoutMs: 1000, maxRedirects: 0 },
        policy: new AddressPolicy(),
        maxPerMessage: 1,
        maxTotalBytes: 1000,
        perMessage: 1,
        perGateway: 1,
      }),
    });
    services.push(service);
    return service;
  }

  it('sends each queued MMS once when two nodes pump the same lines', async () => {
    const mmsc = new CountingMmsc();
    const [a, b] = [await node(mmsc, 'a'), await node(mmsc, 'b')];
    const at = new Date().toISOString();
    const ids = Array.from({ length: 24 }, (_, i) => `msg_${String(i).padStart(2, '0')}`);
    await t.store.tx(async (tx) => {
      for (const id of ids) {
        await tx
          .insertInto('messages')
          .values({ id, number_id: 'num_1', direction: 'outbound', channel: 'mms', contact: SENDER, body: 'hello', status: 'queued', segments: 1, created_at: at, updated_at: at })
          .execute();
        await a.queue(id, LINE, tx);
      }
    });
    await Promise.all([a.start(), b.start()]);
    a.notify();
    b.notify();
    await until(async () => {
      const rows = await t.store.db.selectFrom('messages').select('status').where('status', '=', 'sent').execute();
      return rows.length === ids.length;
    }, 20_000, 'every MMS sent');
    expect(mmsc.sent).toHaveLength(ids.length);
    expect(new Set(mmsc.sent).size).toBe(ids.length);
    const out = await t.store.db.selectFrom('mms_outbound').select(['status', 'attempts', 'mms_message_id']).execute();
    expect(out.every((r) => r.status === 'sent' && r.attempts === 1 && r.mms_message_id !== null)).toBe(true);
  });

  it('records a push inside the receiver transaction and fetches it into one message with its event', async () => {
    const mmsc = new CountingMmsc();
    const service = await node(mmsc, 'a');
    await service.start();
    const push = notificationPush('T-1');
    expect(await t.store.tx((tx) => service.acceptPush(LINE, push, tx))).toBe(false);
    // The MMSC resending the notification is not a second MMS.
    expect(await t.store.tx((tx) => service.acceptPush(LINE, push, tx))).toBe(false);
    service.notify();
    const message = await until(
      async () => (await t.store.db.selectFrom('messages').selectAll().where('direction', '=', 'inbound').execute())[0],
      20_000,
      'the MMS stored',
    );
    expect(message).toMatchObject({ channel: 'mms', contact: SENDER, body: 'a photo for you', status: 'received' });
    await until(() => mmsc.responses.length === 1, 5_000, 'the notify response');
    const events = await t.store.db.selectFrom('outbox').select(['event', 'message_id']).execute();
    expect(events).toEqual([{ event: 'message.inbound', message_id: message.id }]);
    const inbound = await t.store.db.selectFrom('mms_inbound').select(['status', 'message_id']).execute();
    expect(inbound).toEqual([{ status: 'done', message_id: message.id }]);
  });

  it('keeps an undecodable push, and rolls it back with the receiver transaction', async () => {
    const service = await node(new CountingMmsc(), 'a');
    await t.store.tx((tx) => service.acceptPush(LINE, new Uint8Array([1, 2, 3]), tx));
    await expect(
      t.store.tx(async (tx) => {
        await service.acceptPush(LINE, new Uint8Array([4, 5]), tx);
        throw new Error('the receive failed');
      }),
    ).rejects.toThrow('the receive failed');
    const problems = await service.inboundProblems(10);
    expect(problems.rawPushes.count).toBe(1);
    expect(problems.rawPushes.items[0]!.data).toEqual(new Uint8Array([1, 2, 3]));
  });
});
