import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors/index.ts';
import { MessagesRepository } from '../../../src/store/messages-repository.ts';
import { afterCommit } from '../../../src/store/sql/transaction-guard.ts';
import { describeOnEachDialect, type TestStore } from '../../helpers/store-dialects.ts';

type Db = TestStore['store']['db'];

/** A scratch table of counters: the contract is about transactions, not any repository's rows. */
async function count(db: Db, key: string): Promise<number | undefined> {
  const { rows } = await sql<{ n: number }>`SELECT n FROM tx_counter WHERE k = ${key}`.execute(db);
  return rows[0]?.n;
}

async function bump(db: Db, key: string): Promise<void> {
  await sql`INSERT INTO tx_counter (k, n) VALUES (${key}, 1) ON CONFLICT (k) DO UPDATE SET n = tx_counter.n + 1`.execute(db);
}

describeOnEachDialect('store.tx', (open) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await open();
    await sql`CREATE TABLE tx_counter (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`.execute(t.store.db);
  });
  afterEach(() => t.close());

  it('commits what the unit wrote when it resolves', async () => {
    const result = await t.store.tx(async (tx) => {
      await bump(tx, 'a');
      await bump(tx, 'a');
      return 'done';
    });
    expect(result).toBe('done');
    expect(await count(t.store.db, 'a')).toBe(2);
  });

  it('rolls back everything the unit wrote when it rejects, and the store goes on', async () => {
    await expect(
      t.store.tx(async (tx) => {
        await bump(tx, 'b');
        throw new Error('unit failed');
      }),
    ).rejects.toThrow('unit failed');
    expect(await count(t.store.db, 'b')).toBeUndefined();
    await bump(t.store.db, 'b');
    expect(await count(t.store.db, 'b')).toBe(1);
  });

  it('refuses a query on the root executor inside a transaction instead of deadlocking or escaping it', async () => {
    const err = await t.store
      .tx(async (tx) => {
        await bump(tx, 'c');
        await bump(t.store.db, 'c');
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/root executor inside a transaction/);
    expect(await count(t.store.db, 'c')).toBeUndefined();
  });

  it('refuses a transaction opened inside another', async () => {
    const err = await t.store.tx(async () => t.store.tx(async () => 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
  });

  it('keeps concurrent read-modify-write units from losing updates (50 units at once)', async () => {
    await bump(t.store.db, 'n');
    await Promise.all(
      Array.from({ length: 50 }, () =>
        t.store.tx(async (tx) => {
          // SQLite: the unit holds the one connection; PostgreSQL: FOR UPDATE locks the row.
          const lock = t.store.dialect === 'postgres' ? sql` FOR UPDATE` : sql``;
          const { rows } = await sql<{ n: number }>`SELECT n FROM tx_counter WHERE k = 'n'${lock}`.execute(tx);
          await sql`UPDATE tx_counter SET n = ${rows[0]!.n + 1} WHERE k = 'n'`.execute(tx);
        }),
      ),
    );
    expect(await count(t.store.db, 'n')).toBe(51);
  });

  it('runs afterCommit callbacks once the transaction has committed (the write readable from the root), never after a rollback', async () => {
    const seen: Array<number | undefined | string> = [];
    let read: Promise<unknown> = Promise.resolve();
    await t.store.tx(async (tx) => {
      await bump(tx, 'd');
      afterCommit(() => {
        seen.push('called');
        read = count(t.store.db, 'd').then((n) => seen.push(n));
      });
      expect(seen).toEqual([]);
    });
    await read;
    expect(seen).toEqual(['called', 1]);
    await t.store
      .tx(async (tx) => {
        await bump(tx, 'd');
        afterCommit(() => seen.push('rolled back'));
        throw new Error('no');
      })
      .catch(() => undefined);
    afterCommit(() => seen.push('outside'));
    expect(seen).toEqual(['called', 1, 'outside']);
  });

  it("tells a message's change listeners after its transaction commits, so their read from the root finds it", async () => {
    await t.store.db.insertInto('numbers').values({ id: 'n1', phone_number: '+15550000101', webhook_secret: 's', created_at: 'x', updated_at: 'x' }).execute();
    const messages = new MessagesRepository(t.store.db);
    const read: Array<string | undefined> = [];
    const reads: Promise<unknown>[] = [];
    messages.onChange((id) => reads.push(messages.get(id).then((m) => read.push(m?.body))));
    await t.store.tx(async (tx) => {
      await messages.on(tx).insert({ id: 'm1', numberId: 'n1', direction: 'outbound', channel: 'sms', contact: '+15557654321', body: 'hi', media: [], status: 'queued', encoding: 'gsm7', segments: 1, createdAt: '2026-12-04T00:00:00.000Z' });
      expect(reads).toHaveLength(0);
    });
    await Promise.all(reads);
    expect(read).toEqual(['hi']);
  });
});
