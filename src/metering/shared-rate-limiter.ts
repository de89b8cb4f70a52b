import type { Clock } from '../clock/index.ts';
import type { Logger } from '../logging/index.ts';
import type { BucketLimit, BucketTake } from '../store/index.ts';
import { RateLimiter, rateLimited, type RateLimit } from './rate-limiter.ts';

/** Where the shared buckets live (RateBucketsRepository on the cluster's PostgreSQL). */
export interface SharedBuckets {
  take(key: string, limit: BucketLimit): Promise<BucketTake>;
  prune(idleMs: number): Promise<number>;
}

export interface SharedRateLimiterOptions {
  buckets: SharedBuckets;
  ratePerS: number;
  burst: number;
  /** This node's clock: only for when to prune and for the per-node fallback bucket. */
  clock: Clock;
  logger: Logger;
}

/** How often a node deletes idle buckets (each node does; a delete that finds nothing is cheap). */
const PRUNE_EVERY_MS = 10 * 60_000;
/** A bucket untouched this long is deleted (unless it takes longer than this to refill). */
const IDLE_MS = 60 * 60_000;

/**
 * The per-API-key token bucket shared by every node on one database: each request takes its token
 * in the store, in one statement, by the database's clock, so N nodes together allow `rateLimit`,
 * not N times it. When the store cannot be reached the limiter fails open to this node's own
 * in-memory bucket (the per-node limit of a single node), warning once per outage: the API stays
 * up, and the send that follows fails on the store by itself anyway.
 */
export class SharedRateLimiter implements RateLimit {
  private readonly limit: BucketLimit;
  private readonly fallback: RateLimiter;
  private readonly log: Logger;
  private readonly idleMs: number;
  private outage = false;
  private nextPruneMs: number;

  constructor(private readonly o: SharedRateLimiterOptions) {
    this.limit = { ratePerS: o.ratePerS, burst: o.burst };
    this.fallback = new RateLimiter(o.ratePerS, o.burst, o.clock);
    this.log = o.logger.child({ mod: 'rate-limit' });
    // Deleting a bucket refills it: never before it would have refilled by itself.
    this.idleMs = Math.max(IDLE_MS, Math.ceil((o.burst / o.ratePerS) * 1000));
    this.nextPruneMs = o.clock.now() + PRUNE_EVERY_MS;
  }

  async take(key: string): Promise<void> {
    let took: BucketTake;
    try {
      took = await this.o.buckets.take(key, this.limit);
    } catch (err) {
      if (!this.outage) {
        this.outage = true;
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limit: store unreachable; limiting per node until it answers again');
      }
      this.fallback.take(key);
      return;
    }
    if (this.outage) {
      this.outage = false;
      this.log.info('rate limit: store answers again; the limit is shared by the cluster again');
    }
    this.pruneNowAndThen();
    if (!took.taken) throw rateLimited(this.o.ratePerS, this.o.burst, took.retryAfterS);
  }

  /** Deletes idle buckets every PRUNE_EVERY_MS, in the background of a request, never failing it. */
  private pruneNowAndThen(): void {
    const now = this.o.clock.now();
    if (now < this.nextPruneMs) return;
    this.nextPruneMs = now + PRUNE_EVERY_MS;
    this.o.buckets.prune(this.idleMs).then(
      (pruned) => this.log.debug({ pruned }, 'rate limit: idle buckets pruned'),
      (err: unknown) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limit: pruning idle buckets failed'),
    );
  }
}
