import type { Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MmsRepository, type MediaRow } from '../../src/mms/index.ts';
import { openPostgresStore, type Database, type SqlStore } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const NOW = 1_767_225_600_000;

/** A number and `count` outbound MMS messages on it (mms_outbound rows need their message). */
async function seedMessages(db: Kysely<Database>, count: number): Promise<string[]> {
  const at = new Date(NOW).toISOString();
  await db
    .insertInto('numbers')
    .values({ id: 'num_1', phone_number: '+15550001111', line_id: 'line-a', webhook_secret: 'whsec_x', created_at: at, updated_at: at })
    .execute();
  const ids = Array.from({ length: count }, (_, i) => `msg_${String(i).padStart(3, '0')}`);
  if (ids.length > 0) {
    await db
      .insertInto('messages')
      .values(ids.map((id) => ({ id, number_id: 'num_1', direction: 'outbound', channel: 'mms', contact: '+15557654321', body: 'hi', status: 'queued', segments: 1, created_at: at, updated_at: at })))
      .execute();
  }
  return ids;
}

function notification(i: number, lineId = 'line-a') {
  return { lineId, transactionId: `tx-${i}`, contentLocation: `http://mmsc/${i}`, sender: '+15557654321', size: 1000 + i, now: NOW };
}

describeOnEachDialect('MmsRepository', (open) => {
  let t: TestStore;
  let repo: MmsRepository;
  beforeEach(async () => {
    t = await open();
    repo = new MmsRepository(t.store.db);
  });
  afterEach(() => t.close());

  it('claims due sends of the given lines once, oldest first, and reports the next due time', async () => {
    const [a, b, c] = await seedMessages(t.store.db, 3);
    await repo.queueOutbound(a!, 'line-a', 'T1');
    await repo.queueOutbound(b!, 'line-b', 'T2');
    await repo.queueOutbound(c!, 'line-a', 'T3');
    await repo.deferOutbound(c!, NOW + 5_000);
    expect(await repo.nextOutboundDueAt(['line-a'])).toBe(0);
    expect(await repo.claimOutbound(NOW, [], 10)).toEqual([]);
    const claimed = await repo.claimOutbound(NOW, ['line-a'], 10);
    expect(claimed).toEqual([{ messageId: a, lineId: 'line-a', transactionId: 'T1', status: 'sending', attempts: 1, nextAttemptAt: 0, mmsMessageId: null }]);
    expect(await repo.claimOutbound(NOW, ['line-a'], 10)).toEqual([]);
    expect(await repo.nextOutboundDueAt(['line-a'])).toBe(NOW + 5_000);
    expect(await repo.nextOutboundDueAt(['line-c'])).toBeUndefined();
    // deferOutbound gave back the attempt it had not used (attempts - 1), so c's first claim counts 0.
    expect((await repo.claimOutbound(NOW + 5_000, ['line-a'], 10)).map((r) => [r.messageId, r.attempts])).toEqual([[c, 0]]);
  });

  it('never hands one send to two claimers at once (20 concurrent claims over 30 sends)', async () => {
    const ids = await seedMessages(t.store.db, 30);
    for (const id of ids) await repo.queueOutbound(id, 'line-a', `T-${id}`);
    // On PostgreSQL a second store is another node with its own connections.
    const other: SqlStore<Database> = t.url ? await openPostgresStore<Database>({ url: t.url }) : t.store;
    try {
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const store = i % 2 === 0 ? t.store : other;
          return store.tx((tx) => new MmsRepository(tx).claimOutbound(NOW, ['line-a'], 3));
        }),
      );
      const all = claims.flat().map((r) => r.messageId);
      expect(new Set(all).size).toBe(all.length);
      // No claimer took more than it asked for (SKIP LOCKED in an IN subquery can pass LIMIT).
      expect(Math.max(...claims.map((c) => c.length))).toBeLessThanOrEqual(3);
      expect(all.length).toBeGreaterThan(0);
      // What nobody got is still queued, for the next pass.
      const rest = await repo.claimOutbound(NOW, ['line-a'], 100);
      expect([...all, ...rest.map((r) => r.messageId)].sort()).toEqual(ids);
    } finally {
      if (other !== t.store) await other.close();
    }
  });

  it('records the outcome of a send, keeping the MMSC id once known, and finds it by that id', async () => {
    const [a] = await seedMessages(t.store.db, 1);
    await repo.queueOutbound(a!, 'line-a', 'T1');
    await repo.claimOutbound(NOW, ['line-a'], 1);
    await repo.setOutbound(a!, { status: 'sent', mmsMessageId: 'mmsc-42' });
    await repo.setOutbound(a!, { status: 'delivered' });
    expect(await repo.outboundByMmsId('line-a', 'mmsc-42')).toMatchObject({ messageId: a, status: 'delivered', mmsMessageId: 'mmsc-42' });
    expect(await repo.outboundByMmsId('line-b', 'mmsc-42')).toBeUndefined();
  });

  it('requeues sends a restart interrupted', async () => {
    const ids = await seedMessages(t.store.db, 2);
    for (const id of ids) await repo.queueOutbound(id, 'line-a', `T-${id}`);
    await repo.claimOutbound(NOW, ['line-a'], 2);
    expect(await repo.requeueInterrupted()).toBe(2);
    expect(await repo.requeueInterrupted()).toBe(0);
    expect(await repo.claimOutbound(NOW, ['line-a'], 5)).toHaveLength(2);
  });

  it('records a notification once per line and transaction id', async () => {
    expect(await repo.insertNotification(notification(1))).toBe(true);
    expect(await repo.insertNotification(notification(1))).toBe(false);
    expect(await repo.insertNotification(notification(1, 'line-b'))).toBe(true);
    expect(await repo.dueNotifications(NOW, ['line-a', 'line-b'], 10)).toHaveLength(2);
  });

  it('claims due notifications once, pushing their next attempt out, and never to two claimers', async () => {
    for (let i = 0; i < 12; i++) await repo.insertNotification(notification(i));
    const other: SqlStore<Database> = t.url ? await openPostgresStore<Database>({ url: t.url }) : t.store;
    let all: { id: number; attempts: number }[];
    try {
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => new MmsRepository((i % 2 === 0 ? t.store : other).db).claimNotifications(NOW, ['line-a'], 2, NOW + 60_000)),
      );
      all = claims.flat();
      expect(new Set(all.map((n) => n.id)).size).toBe(all.length);
      expect(Math.max(...claims.map((c) => c.length))).toBeLessThanOrEqual(2);
      expect(all.every((n) => n.attempts === 1)).toBe(true);
    } finally {
      if (other !== t.store) await other.close();
    }
    // What nobody got is still due; together every notification was claimed exactly once.
    const left = await repo.claimNotifications(NOW, ['line-a'], 100, NOW + 60_000);
    expect(new Set([...all, ...left].map((n) => n.id)).size).toBe(12);
    expect(all.length + left.length).toBe(12);
    expect(await repo.dueNotifications(NOW, ['line-a'], 100)).toEqual([]);
    expect(await repo.nextNotificationDueAt(['line-a'])).toBe(NOW + 60_000);
    // Past the claim, an unfinished fetch is due again.
    expect(await repo.claimNotifications(NOW + 60_000, ['line-a'], 100, NOW + 120_000)).toHaveLength(12);
  });

  it('strands notifications of lines that cannot fetch, and requeues them once they can', async () => {
    await repo.insertNotification(notification(1));
    await repo.insertNotification(notification(2, 'line-b'));
    await repo.insertNotification({ ...notification(3), status: 'unfetchable' });
    const stranded = await repo.strandPending((line) => line !== 'line-a');
    expect(stranded.map((n) => n.transactionId)).toEqual(['tx-1']);
    const { count, items } = await repo.unfetchable(1);
    expect(count).toBe(2);
    expect(items).toEqual([{ id: expect.any(Number), lineId: 'line-a', sender: '+15557654321', size: 1003, createdAt: NOW }]);
    expect(await repo.requeueUnfetchable((line) => line === 'line-a')).toBe(2);
    expect((await repo.unfetchable(10)).count).toBe(0);
    const due = await repo.dueNotifications(NOW, ['line-a'], 10);
    expect(due.map((n) => n.transactionId)).toEqual(['tx-1', 'tx-3']);
    await repo.setNotification(due[0]!.id, { status: 'done', attempts: 1, messageId: null });
    expect((await repo.dueNotifications(NOW, ['line-a'], 10)).map((n) => n.transactionId)).toEqual(['tx-3']);
  });

  it('keeps raw pushes byte for byte, newest first', async () => {
    await repo.insertRawPush({ lineId: 'line-a', reason: 'undecodable', code: 'MMS_TRUNCATED', at: 3, data: new Uint8Array([0, 1, 2, 255]), now: NOW });
    await repo.insertRawPush({ lineId: 'line-a', reason: 'incomplete', code: null, at: null, data: new Uint8Array([9]), now: NOW + 1 });
    const { count, items } = await repo.rawPushes(1);
    expect(count).toBe(2);
    expect(items).toEqual([{ id: expect.any(Number), lineId: 'line-a', reason: 'incomplete', errorCode: null, errorAt: null, data: new Uint8Array([9]), createdAt: NOW + 1 }]);
    expect((await repo.rawPushes(5)).items[1]!.data).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  it('stores media rows, links, expires and deletes them, and tells whether content is still used', async () => {
    const row: MediaRow = { id: 'm1', sha256: 'ab'.repeat(32), contentType: 'image/png', size: 3_000_000_000, name: null, messageId: null, createdAt: NOW, expiresAt: NOW + 10 };
    await repo.insertMedia(row);
    await repo.insertMedia({ ...row, id: 'm2', expiresAt: null });
    await repo.linkMedia('m1', 'msg_1');
    expect(await repo.media('m1')).toEqual({ ...row, messageId: 'msg_1' });
    expect(await repo.media('nope')).toBeUndefined();
    expect((await repo.expiredMedia(NOW + 9)).map((m) => m.id)).toEqual([]);
    expect((await repo.expiredMedia(NOW + 10)).map((m) => m.id)).toEqual(['m1']);
    await repo.deleteMedia('m1');
    expect(await repo.shaInUse(row.sha256)).toBe(true);
    await repo.deleteMedia('m2');
    expect(await repo.shaInUse(row.sha256)).toBe(false);
  });
});
