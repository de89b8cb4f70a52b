import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../../src/store/sql/database.ts';
import { PreparedQuery } from '../../../src/store/sql/prepared-query.ts';
import { describeOnEachDialect, type TestStore } from '../../helpers/store-dialects.ts';

/** A table of the test's own (the store's tables have foreign keys that are not the point here). */
type Tally = {
  tally: { number_id: string; month: string; kind: string; units: number };
};
const tallies = (db: Kysely<Database>) => db.withTables<Tally>();

const UPSERT = new PreparedQuery(['number_id', 'month', 'kind', 'units'] as const, (db: Kysely<Database>, row: Tally['tally']) =>
  tallies(db)
    .insertInto('tally')
    .values(row)
    .onConflict((oc) => oc.columns(['number_id', 'month', 'kind']).doUpdateSet({ units: sql<number>`tally.units + excluded.units` }))
    .returning('units'),
);

const BY_KIND = new PreparedQuery(['month', 'kind'] as const, (db: Kysely<Database>, k: { month: string; kind: string }) =>
  // A constant beside the arguments stays a constant.
  tallies(db).selectFrom('tally').select(['number_id', 'units']).where('month', '=', k.month).where('kind', '=', k.kind).where('units', '>', 0).orderBy('number_id'),
);

describeOnEachDialect('PreparedQuery', (open) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await open();
    await sql`CREATE TABLE tally (number_id TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, units INTEGER NOT NULL, PRIMARY KEY (number_id, month, kind))`.execute(t.store.db);
  });
  afterEach(() => t.close());

  it('runs one compiled statement with each call’s arguments, inside and outside a transaction', async () => {
    expect(await UPSERT.execute(t.store.db, { number_id: 'n1', month: '2026-12', kind: 'sms_out', units: 2 })).toEqual([{ units: 2 }]);
    expect(await UPSERT.execute(t.store.db, { number_id: 'n1', month: '2026-12', kind: 'sms_out', units: 3 })).toEqual([{ units: 5 }]);
    await t.store.tx(async (tx) => {
      expect(await UPSERT.execute(tx, { number_id: 'n2', month: '2026-12', kind: 'sms_out', units: 7 })).toEqual([{ units: 7 }]);
      // A read in the transaction sees its own write (SQLite: straight on the transaction's connection).
      expect(await BY_KIND.execute(tx, { month: '2026-12', kind: 'sms_out' })).toEqual([
        { number_id: 'n1', units: 5 },
        { number_id: 'n2', units: 7 },
      ]);
      await UPSERT.execute(tx, { number_id: 'n3', month: '2026-11', kind: 'sms_out', units: 1 });
    });
    expect(await BY_KIND.execute(t.store.db, { month: '2026-12', kind: 'sms_out' })).toEqual([
      { number_id: 'n1', units: 5 },
      { number_id: 'n2', units: 7 },
    ]);
    expect(await BY_KIND.execute(t.store.db, { month: '2026-11', kind: 'sms_out' })).toEqual([{ number_id: 'n3', units: 1 }]);
  });

  it('refuses a builder that uses an argument other than as a value', async () => {
    const spliced = new PreparedQuery(['kind'] as const, (db: Kysely<Database>, k: { kind: string }) =>
      tallies(db).selectFrom('tally').select('units').where('kind', '=', `${k.kind}-suffix`),
    );
    await expect(spliced.execute(t.store.db, { kind: 'sms_out' })).rejects.toThrow(/argument was used other than as a value/);
    const inText = new PreparedQuery(['column'] as const, (db: Kysely<Database>, k: { column: string }) => tallies(db).selectFrom('tally').select(sql.ref(k.column).as('x')));
    await expect(inText.execute(t.store.db, { column: 'units' })).rejects.toThrow(/argument was used other than as a value/);
  });
});
