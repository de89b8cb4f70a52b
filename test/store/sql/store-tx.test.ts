import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors/index.ts';
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
});
