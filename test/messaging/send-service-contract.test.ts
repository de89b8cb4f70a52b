import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ApiPrincipal } from '../../src/auth/index.ts';
import { validateConfig } from '../../src/config/index.ts';
import { SendService } from '../../src/messaging/index.ts';
import { UsageLedger } from '../../src/metering/index.ts';
import type { NumberService } from '../../src/numbers/index.ts';
import { MessagesRepository, openPostgresStore, UsageRepository, type Database, type NumberRecord, type SqlStore } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const NOW = Date.UTC(2026, 10, 28);
const principal: ApiPrincipal = { keyId: 'key_1', numberIds: null };
const number: NumberRecord = {
  id: 'num_a',
  phoneNumber: '+15550000001',
  lineId: 'l1',
  label: null,
  webhookUrl: null,
  webhookSecret: 's',
  webhookTimeoutMs: 5000,
  overageEnabled: false,
  status: 'active',
  createdAt: new Date(NOW).toISOString(),
  updatedAt: new Date(NOW).toISOString(),
};

/** The send path as a node has it, on `store`; the number is served from memory as NumberService does. */
function sendService(store: SqlStore<Database>, includedSegments: number, woken: string[] = []): SendService {
  const config = validateConfig({ dataDir: '/nonexistent', adminToken: 'test-admin-token-0123456789', metering: { includedSegments } });
  return new SendService({
    store,
    numbers: { get: () => number } as unknown as NumberService,
    messages: new MessagesRepository(store.db),
    ledger: new UsageLedger(new UsageRepository(store.db), config.metering),
    sms: config.sms,
    media: config.media,
    clock: { now: () => NOW },
    dispatcher: { notify: (line) => woken.push(line ?? '*') },
  });
}

describeOnEachDialect('send service on the group commit', (open) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await open();
    const at = new Date(NOW).toISOString();
    await t.store.db
      .insertInto('numbers')
      .values({ id: number.id, phone_number: number.phoneNumber, line_id: 'l1', label: null, webhook_url: null, webhook_secret: 's', created_at: at, updated_at: at })
      .execute();
  });
  afterEach(() => t.close());

  const count = async (table: 'messages' | 'message_parts') => Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(t.store.db)).rows[0]!.n);

  it('commits sends arriving together, refusing alone the one past the quota and the invalid one', async () => {
    const woken: string[] = [];
    const send = sendService(t.store, 4, woken);
    const long = 'x'.repeat(200); // two segments
    const results = await Promise.allSettled([
      send.send(principal, number.id, { to: '+15551110000', body: long }),
      send.send(principal, number.id, { to: '+15551110001', body: 'one' }),
      send.send(principal, number.id, { to: 'not a number', body: 'bad' }),
      send.send(principal, number.id, { to: '+15551110002', body: long }), // would pass the 4 included
      send.send(principal, number.id, { to: '+15551110003', body: 'one more' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(await count('messages')).toBe(3);
    expect(await count('message_parts')).toBe(4);
    const first = (results[0] as PromiseFulfilledResult<Awaited<ReturnType<SendService['send']>>>).value.response;
    expect((await new MessagesRepository(t.store.db).parts(first.messageId)).map((p) => [p.seq, p.status, p.lineId])).toEqual([
      [1, 'queued', 'l1'],
      [2, 'queued', 'l1'],
    ]);
    expect(woken).toEqual(['l1', 'l1', 'l1']);
  });

  it('sends once per Idempotency-Key, also when two nodes get the same request at once', async () => {
    const other = t.url === undefined ? undefined : await openPostgresStore<Database>({ url: t.url });
    try {
      const mine = sendService(t.store, 1000);
      const theirs = sendService(other ?? t.store, 1000);
      for (let round = 0; round < 5; round++) {
        const input = { to: '+15551110000', body: `hello ${round}` };
        const results = await Promise.all([mine.send(principal, number.id, input, `k${round}`), theirs.send(principal, number.id, input, `k${round}`)]);
        expect(results[0].response.messageId).toBe(results[1].response.messageId);
        expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
      }
      expect(await count('messages')).toBe(5);
      await expect(mine.send(principal, number.id, { to: '+15551110000', body: 'other' }, 'k0')).rejects.toMatchObject({ code: 'VALIDATION' });
    } finally {
      await other?.close();
    }
  });
});
