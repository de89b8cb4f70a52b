/**
 * NumbersRepository.find: on PostgreSQL (a cluster) a number the cache lacks, written by another
 * node whose bus hint never came, is read from the database, and reads for ids that do not exist
 * stay bounded (NumberMissGuard). On SQLite the cache is exact and find never reads.
 */
import { SelectQueryNode, type KyselyPlugin } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { NumbersCache, NumbersRepository } from '../../src/store/index.ts';
import { NumberMissGuard } from '../../src/store/number-miss-guard.ts';
import { ManualClock } from '../fakes/manual-clock.ts';
import { describeOnEachDialect, type TestStore } from '../helpers/store-dialects.ts';

const NOW = '2026-12-05T00:00:00.000Z';

describeOnEachDialect('numbers repository find', (open) => {
  let t: TestStore;
  let reads = 0;
  const clock = new ManualClock();
  beforeEach(async () => {
    t = await open();
    reads = 0;
  });
  afterEach(() => t.close());

  /** A repository with its own cache whose SELECTs are counted; the guard on the test's clock. */
  async function repo(): Promise<NumbersRepository> {
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        if (SelectQueryNode.is(args.node)) reads++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const db = t.store.db.withPlugin(counting);
    const cache = new NumbersCache();
    if (t.store.dialect === 'postgres') cache.misses = new NumberMissGuard({ readsPerSecond: 10, burst: 10, absentTtlMs: 2_000, now: () => clock.now() });
    const r = new NumbersRepository(db, undefined, cache);
    await r.load();
    reads = 0;
    return r;
  }

  /** Another node's write: straight into the table, no cache here told, no hint sent. */
  const insertElsewhere = (id: string, phone: string) =>
    t.store.db
      .insertInto('numbers')
      .values({ id, phone_number: phone, line_id: null, webhook_secret: `whsec_${id}`, status: 'active', created_at: NOW, updated_at: NOW })
      .execute();

  it('finds a number another node wrote without a hint only on PostgreSQL; SQLite answers from its exact cache', async () => {
    const numbers = await repo();
    await insertElsewhere('num_elsewhere', '+15550001001');
    expect(numbers.get('num_elsewhere')).toBeUndefined();
    const found = await numbers.find('num_elsewhere');
    if (t.store.dialect === 'postgres') {
      expect(found).toMatchObject({ id: 'num_elsewhere', phoneNumber: '+15550001001', webhookSecret: 'whsec_num_elsewhere' });
      expect(reads).toBe(1);
      // Now cached: no further read.
      expect(numbers.get('num_elsewhere')?.id).toBe('num_elsewhere');
      await numbers.find('num_elsewhere');
      expect(reads).toBe(1);
    } else {
      expect(found).toBeUndefined();
      expect(reads).toBe(0);
      expect(numbers.readsMisses).toBe(false);
    }
  });

  it('bounds the reads that random ids cause: the burst, then the refill rate; one read per id in flight; absent ids remembered', async () => {
    const numbers = await repo();
    if (t.store.dialect === 'sqlite') {
      await Promise.all(Array.from({ length: 200 }, (_, i) => numbers.find(`num_random${i}`)));
      expect(reads).toBe(0);
      return;
    }
    // 200 random ids at once: 10 reads (the burst), 190 answered "not found" without one.
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => numbers.find(`num_random${i}`)));
    expect(answers.every((a) => a === undefined)).toBe(true);
    expect(reads).toBe(10);
    // Half a second refills 5.
    clock.advance(500);
    await Promise.all(Array.from({ length: 50 }, (_, i) => numbers.find(`num_more${i}`)));
    expect(reads).toBe(15);
    // The same id asked 50 times at once: one read.
    clock.advance(1_000);
    await Promise.all(Array.from({ length: 50 }, () => numbers.find('num_same')));
    expect(reads).toBe(16);
    // Found absent: answered from memory for the TTL, even with tokens to spare...
    await numbers.find('num_same');
    expect(reads).toBe(16);
    // ...and read again once the TTL has passed: found, now that another node wrote it.
    await insertElsewhere('num_same', '+15550001002');
    clock.advance(2_000);
    expect((await numbers.find('num_same'))?.phoneNumber).toBe('+15550001002');
    expect(reads).toBe(17);
    // An id longer than any number id is never looked up.
    expect(await numbers.find('n'.repeat(65))).toBeUndefined();
    expect(reads).toBe(17);
  });
});
