import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { RateBucketsTable } from './sql/database.ts';
import { dbNowMs } from './sql/db-clock.ts';
import type { SqlDialect, SqlStore } from './sql/sql-store.ts';

/** A token bucket's settings: `ratePerS` tokens refilled per second, at most `burst` held. */
export interface BucketLimit {
  readonly ratePerS: number;
  readonly burst: number;
}

/** What a take got: a token, or how long until the bucket holds one. */
export type BucketTake = { readonly taken: true } | { readonly taken: false; readonly retryAfterS: number };

interface RateBucketTables {
  rate_buckets: RateBucketsTable;
}

/**
 * Token buckets in the store, shared by every node on one database (the cluster's per-API-key
 * rate limit). A take refills and takes in one statement, so nodes racing on one bucket never take
 * more than it holds: on PostgreSQL the second waits for the first's row lock and its
 * DO UPDATE … WHERE re-reads the row the first left. Times are the database's clock unless the
 * caller gives one, so nodes with skewed clocks refill alike.
 */
export class RateBucketsRepository<DB extends RateBucketTables = RateBucketTables> {
  private readonly db: Kysely<RateBucketTables>;
  private readonly dialect: SqlDialect;

  constructor(store: SqlStore<DB>) {
    // Kysely<DB> is invariant in DB; the table types exist only at compile time, so this is a view.
    this.db = store.db as unknown as Kysely<RateBucketTables>;
    this.dialect = store.dialect;
  }

  /**
   * Refills `key`'s bucket to now and takes one token if it holds one. A bucket never seen starts
   * full. `atMs` is the time to refill to (epoch ms), the database's clock when omitted. A clock
   * that steps back refills nothing and never moves the bucket's time back.
   */
  async take(key: string, limit: BucketLimit, atMs?: number): Promise<BucketTake> {
    checkLimit(limit);
    const now = atMs === undefined ? dbNowMs(this.dialect) : sql<number>`${Math.trunc(atMs)}`;
    const rate = real(limit.ratePerS);
    const burst = real(limit.burst);
    const elapsedMs = sql<number>`${this.fn('max')}(0, excluded.updated_at - rate_buckets.updated_at)`;
    const refilled = sql<number>`${this.fn('min')}(${burst}, rate_buckets.tokens + ${elapsedMs} * ${rate} / 1000)`;
    const { rows } = await sql<{ tokens: number }>`
      INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (${key}, ${real(limit.burst - 1)}, ${now})
      ON CONFLICT (key) DO UPDATE SET
        tokens = ${refilled} - 1,
        updated_at = ${this.fn('max')}(rate_buckets.updated_at, excluded.updated_at)
      WHERE ${refilled} >= 1
      RETURNING tokens`.execute(this.db);
    if (rows.length > 0) return { taken: true };
    // Refused (the row exists and held under one token): how long until it holds one, as of now.
    const row = await this.db
      .selectFrom('rate_buckets')
      .select(['tokens', 'updated_at', now.as('now_ms')])
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return { taken: false, retryAfterS: 0 };
    const tokens = Math.min(limit.burst, row.tokens + (Math.max(0, Number(row.now_ms) - row.updated_at) * limit.ratePerS) / 1000);
    return { taken: false, retryAfterS: Math.max(0, (1 - tokens) / limit.ratePerS) };
  }

  /** Deletes the buckets nobody took from for `idleMs` (a missing bucket is a full one); how many. */
  async prune(idleMs: number): Promise<number> {
    const res = await this.db
      .deleteFrom('rate_buckets')
      .where(sql<boolean>`updated_at < ${dbNowMs(this.dialect)} - ${Math.trunc(idleMs)}`)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Two-argument min/max: SQLite's scalar min()/max(), PostgreSQL's least()/greatest(). */
  private fn(name: 'min' | 'max'): RawBuilder<unknown> {
    if (this.dialect === 'sqlite') return sql.raw(name);
    return sql.raw(name === 'min' ? 'least' : 'greatest');
  }
}

/** A parameter as a float on both dialects (PostgreSQL would otherwise infer bigint from the column). */
function real(value: number): RawBuilder<number> {
  return sql<number>`cast(${value} as double precision)`;
}

function checkLimit(limit: BucketLimit): void {
  if (!(limit.ratePerS > 0) || !(limit.burst >= 1)) {
    throw new RangeError(`A rate bucket needs ratePerS > 0 and burst >= 1, got ${limit.ratePerS} and ${limit.burst}`);
  }
}
