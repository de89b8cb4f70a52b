/**
 * The cluster's shared rate limiter over a real store: two limiters on one SQLite file (two
 * handles, as two processes would open it) share each key's bucket. An outage is the bucket table
 * really gone (dropped), then back (made again by its migration).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/errors/index.ts';
import { SharedRateLimiter, type RateLimit } from '../../src/metering/index.ts';
import { migration020 } from '../../src/store/migrations/020-rate-buckets.ts';
import { openDatabase, RateBucketsRepository, sqliteSqlStore, type Database, type Db, type SqlStore } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { until } from '../helpers/wait.ts';

interface LogLine {
  level: number;
  msg: string;
}

const WARN = 40;
const INFO = 30;

/** Takes for `key` until one is refused; how many were granted (at most `max` tried). */
async function grantedUntilRefused(limiter: RateLimit, key: string, max = 20): Promise<number> {
  for (let i = 0; i < max; i++) {
    try {
      await limiter.take(key);
    } catch (err) {
      expect(err).toBeInstanceOf(RateLimitedError);
      return i;
    }
  }
  return max;
}

describe('SharedRateLimiter', () => {
  const tempDir = useTempDir('agentphone-ratelimit-');
  let handles: Db[];
  let stores: SqlStore<Database>[];
  let lines: LogLine[];
  let nowMs: number;

  const limiter = (store: SqlStore<Database>, ratePerS: number, burst: number) =>
    new SharedRateLimiter({
      buckets: new RateBucketsRepository(store),
      ratePerS,
      burst,
      clock: { now: () => nowMs },
      logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }),
    });

  beforeEach(() => {
    const file = join(tempDir(), 'agentphone.db');
    handles = [openDatabase(file), openDatabase(file)];
    stores = handles.map((h) => sqliteSqlStore<Database>(h));
    lines = [];
    nowMs = Date.parse('2026-12-05T00:00:00Z');
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    for (const h of handles) h.close();
  });

  it("shares one key's bucket between two nodes, and answers a 429 with a Retry-After", async () => {
    // One token per 1000 s: nothing refills during the test.
    const a = limiter(stores[0]!, 0.001, 3);
    const b = limiter(stores[1]!, 0.001, 3);
    await a.take('key_1');
    await b.take('key_1');
    await a.take('key_1');
    for (const node of [a, b]) {
      const refused = await Promise.resolve(node.take('key_1')).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(RateLimitedError);
      expect((refused as RateLimitedError).status).toBe(429);
      expect((refused as RateLimitedError).retryAfterS).toBeGreaterThan(900);
    }
    // Another key has its own bucket.
    expect(await grantedUntilRefused(b, 'key_2')).toBe(3);
  });

  it('fails open to the per-node bucket while the store is unreachable, warning once per outage', async () => {
    const a = limiter(stores[0]!, 0.001, 3);
    const warnings = () => lines.filter((l) => l.level === WARN && l.msg.includes('store unreachable'));
    expect(await grantedUntilRefused(a, 'key_1')).toBe(3);

    handles[0]!.exec('DROP TABLE rate_buckets');
    // The store refuses every take: this node's own bucket (full at first) limits the key.
    expect(await grantedUntilRefused(a, 'key_1')).toBe(3);
    expect(warnings()).toHaveLength(1);

    handles[0]!.exec(migration020.up);
    // Back: the shared bucket again (new, so full), and one line saying so.
    expect(await grantedUntilRefused(a, 'key_1')).toBe(3);
    expect(lines.filter((l) => l.level === INFO && l.msg.includes('answers again'))).toHaveLength(1);

    handles[0]!.exec('DROP TABLE rate_buckets');
    await grantedUntilRefused(a, 'key_2');
    expect(warnings()).toHaveLength(2);
  });

  it('prunes idle buckets now and then, on a take, without failing it', async () => {
    const a = limiter(stores[0]!, 1, 5);
    const stale = Date.now() - 2 * 3_600_000;
    await stores[0]!.db.insertInto('rate_buckets').values({ key: 'key_idle', tokens: 0, updated_at: stale }).execute();
    const keys = async () => (await stores[0]!.db.selectFrom('rate_buckets').select('key').orderBy('key').execute()).map((r) => r.key);

    await a.take('key_1');
    expect(await keys()).toEqual(['key_1', 'key_idle']);
    // Ten minutes later by this node's clock, the next take starts a prune of buckets idle for an hour.
    nowMs += 10 * 60_000;
    await a.take('key_1');
    await until(async () => (await keys()).join() === 'key_1', 5_000, 'the idle bucket to be pruned');
  });
});
