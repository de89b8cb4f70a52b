import { afterEach, beforeEach, expect, it } from 'vitest';
import { RateBucketsRepository, type BucketTake } from '../../src/store/index.ts';
import { describeOnEachDialect, otherNode, type TestStore } from '../helpers/store-dialects.ts';

const T0 = Date.parse('2026-12-05T00:00:00Z');

function granted(takes: readonly BucketTake[]): number {
  return takes.filter((t) => t.taken).length;
}

describeOnEachDialect('RateBucketsRepository', (open) => {
  let t: TestStore;
  /** Another node on the same database: its own pool (PostgreSQL) or the same handle (SQLite). */
  let other: Awaited<ReturnType<typeof otherNode>>;
  let repo: RateBucketsRepository;

  beforeEach(async () => {
    t = await open();
    other = await otherNode(t);
    repo = new RateBucketsRepository(t.store);
  });
  afterEach(async () => {
    await other.close();
    await t.close();
  });

  it('starts a bucket full: burst takes, then a refusal saying when the next token comes', async () => {
    const limit = { ratePerS: 2, burst: 3 };
    const takes: BucketTake[] = [];
    for (let i = 0; i < 3; i++) takes.push(await repo.take('key_a', limit, T0));
    expect(takes).toEqual([{ taken: true }, { taken: true }, { taken: true }]);
    const refused = await repo.take('key_a', limit, T0);
    expect(refused.taken).toBe(false);
    // The refusal's own reading of "now" is the database's clock, later than T0: at most 1 / rate.
    expect(refused.taken === false && refused.retryAfterS).toBeLessThanOrEqual(0.5);
  });

  it('refills at ratePerS up to burst, with fractions carried over', async () => {
    const limit = { ratePerS: 2, burst: 4 };
    for (let i = 0; i < 4; i++) await repo.take('key_a', limit, T0);
    expect((await repo.take('key_a', limit, T0 + 250)).taken).toBe(false); // half a token
    expect((await repo.take('key_a', limit, T0 + 500)).taken).toBe(true); // one token, taken
    expect((await repo.take('key_a', limit, T0 + 500)).taken).toBe(false);
    // An hour idle refills to burst, never beyond.
    const later = T0 + 3_600_000;
    const takes: BucketTake[] = [];
    for (let i = 0; i < 6; i++) takes.push(await repo.take('key_a', limit, later));
    expect(granted(takes)).toBe(4);
  });

  it('keeps one bucket per key', async () => {
    const limit = { ratePerS: 1, burst: 1 };
    expect((await repo.take('key_a', limit, T0)).taken).toBe(true);
    expect((await repo.take('key_a', limit, T0)).taken).toBe(false);
    expect((await repo.take('key_b', limit, T0)).taken).toBe(true);
  });

  it('refills nothing when the clock steps back, and keeps the later time', async () => {
    const limit = { ratePerS: 1, burst: 2 };
    await repo.take('key_a', limit, T0 + 10_000);
    await repo.take('key_a', limit, T0 + 10_000);
    // A node whose clock is 10 s behind: no negative refill, no refusal's worth of debt either.
    expect((await repo.take('key_a', limit, T0))).toEqual({ taken: false, retryAfterS: expect.any(Number) });
    // One second after the later time, one token; had the time moved back it would be eleven.
    expect((await repo.take('key_a', limit, T0 + 11_000)).taken).toBe(true);
    expect((await repo.take('key_a', limit, T0 + 11_000)).taken).toBe(false);
    const row = await t.store.db.selectFrom('rate_buckets').selectAll().where('key', '=', 'key_a').executeTakeFirstOrThrow();
    expect(row.updated_at).toBe(T0 + 11_000);
  });

  it("refills by the database's clock when no time is given", async () => {
    const limit = { ratePerS: 1, burst: 2 };
    expect(granted([await repo.take('key_a', limit), await repo.take('key_a', limit)])).toBe(2);
    const refused = await repo.take('key_a', limit);
    expect(refused.taken).toBe(false);
    expect(refused.taken === false && refused.retryAfterS).toBeGreaterThan(0);
    expect(refused.taken === false && refused.retryAfterS).toBeLessThanOrEqual(1);
    const row = await t.store.db.selectFrom('rate_buckets').selectAll().where('key', '=', 'key_a').executeTakeFirstOrThrow();
    expect(Math.abs(row.updated_at - Date.now())).toBeLessThan(60_000);
  });

  it('never grants more than burst to 200 takes racing from two nodes', async () => {
    // A refill of one token per 1000 s: within the test it adds nothing, so exactly burst are granted.
    const limit = { ratePerS: 0.001, burst: 50 };
    const otherRepo = new RateBucketsRepository(other.store);
    for (let round = 0; round < 3; round++) {
      const key = `key_race_${round}`;
      const takes = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? repo : otherRepo).take(key, limit)));
      expect(granted(takes), key).toBe(50);
      for (const take of takes) if (!take.taken) expect(take.retryAfterS).toBeGreaterThan(0);
    }
  });

  it('prunes the buckets nobody took from for the given time, and only those', async () => {
    const limit = { ratePerS: 1, burst: 5 };
    await repo.take('key_old', limit, Date.now() - 2 * 3_600_000);
    await repo.take('key_new', limit);
    expect(await repo.prune(3_600_000)).toBe(1);
    const keys = await t.store.db.selectFrom('rate_buckets').select('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['key_new']);
  });

  it('refuses a limit that could never refill or hold a token', async () => {
    await expect(repo.take('key_a', { ratePerS: 0, burst: 5 })).rejects.toThrow(RangeError);
    await expect(repo.take('key_a', { ratePerS: 1, burst: 0.5 })).rejects.toThrow(RangeError);
  });
});
