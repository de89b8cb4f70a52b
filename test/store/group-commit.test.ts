import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { GroupCommit, openDatabase, openPostgresStore, type Database } from '../../src/store/index.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

/** A scratch table: the contract is about batching and rollback, not any repository's rows. */
const insert = async (tx: Kysely<Database>, v: number): Promise<number> => {
  await sql`INSERT INTO gc_t (v) VALUES (${v})`.execute(tx);
  return v;
};
const values = async (db: Kysely<Database>): Promise<number[]> => (await sql<{ v: number }>`SELECT v FROM gc_t ORDER BY v`.execute(db)).rows.map((r) => r.v);

describeOnEachDialect('group commit', (open) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await open();
    await sql`CREATE TABLE gc_t (v INTEGER UNIQUE)`.execute(t.store.db);
  });
  afterEach(() => t.close());

  it('commits units submitted together in one transaction, rolling back only the unit that throws', async () => {
    const commits = new GroupCommit(t.store);
    let transactions = 0;
    const tx = t.store.tx.bind(t.store);
    const counted = { ...t.store, dialect: t.store.dialect, db: t.store.db, close: () => t.store.close(), tx: <T>(fn: (db: Kysely<Database>) => Promise<T>) => (transactions++, tx(fn)) };
    const counting = new GroupCommit(counted);
    const results = await Promise.allSettled([
      counting.run((db) => insert(db, 1)),
      counting.run(async (db) => {
        await insert(db, 2);
        await insert(db, 1); // violates UNIQUE: this unit, and only this one, is undone
      }),
      counting.run((db) => insert(db, 3)),
      counting.run(async () => {
        throw new Error('refused before writing');
      }),
      counting.run((db) => insert(db, 4)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect((results[3] as PromiseRejectedResult).reason).toEqual(new Error('refused before writing'));
    expect(await values(t.store.db)).toEqual([1, 3, 4]);
    // The optimistic batch and its rerun with savepoints.
    expect(transactions).toBe(2);
    // A batch of units that all succeed is one transaction.
    transactions = 0;
    await Promise.all([5, 6, 7].map((v) => counting.run((db) => insert(db, v))));
    expect(transactions).toBe(1);
    expect(await commits.run((db) => insert(db, 8))).toBe(8);
  });

  it('settles nothing before the commit, and fails every unit when the transaction fails', async () => {
    const commits = new GroupCommit(t.store);
    let settled = false;
    let seenOutside: number | undefined;
    const reader = t.handle && openDatabase(t.handle.name);
    const first = commits
      .run(async (db) => {
        await insert(db, 10);
        // Still in the batch: the caller has not heard, and (SQLite, another handle) nobody sees the row.
        seenOutside = (reader?.prepare('SELECT count(*) AS n FROM gc_t').get() as { n: number } | undefined)?.n;
        expect(settled).toBe(false);
        return 10;
      })
      .then((v) => ((settled = true), v));
    expect(await first).toBe(10);
    if (reader) {
      expect(seenOutside).toBe(0);
      expect((reader.prepare('SELECT count(*) AS n FROM gc_t').get() as { n: number }).n).toBe(1);
      reader.close();
    }
    if (t.url !== undefined) {
      // Committed: another connection (another node) sees it.
      const other = await openPostgresStore<Database>({ url: t.url });
      expect(await values(other.db)).toEqual([10]);
      await other.close();
    }
    const failing = new GroupCommit({ ...t.store, dialect: t.store.dialect, db: t.store.db, close: () => t.store.close(), tx: () => Promise.reject(new Error('store closed')) });
    const both = await Promise.allSettled([failing.run((db) => insert(db, 11)), failing.run((db) => insert(db, 12))]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
