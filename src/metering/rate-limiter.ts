import type { Clock } from '../clock/index.ts';
import { RateLimitedError } from '../errors/index.ts';
import { fullBucket, takeToken, type TokenBucket } from './token-bucket.ts';

/**
 * The per-API-key rate limit the API's key hook applies. `take` throws a RateLimitedError (429,
 * Retry-After) when the key is over its limit. An in-memory limiter answers at once (void); one
 * that asks the store returns a promise, which the hook awaits only then.
 */
export interface RateLimit {
  take(key: string): void | Promise<void>;
}

/** A token bucket per API key: `ratePerS` sustained, `burst` at once. In memory, per process. */
export class RateLimiter implements RateLimit {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one token for `key` or throws a 429 RateLimitedError carrying Retry-After. */
  take(key: string): void {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, (bucket = fullBucket(this.burst, now)));
    const waitS = takeToken(bucket, this.ratePerS, this.burst, now);
    if (waitS > 0) throw rateLimited(this.ratePerS, this.burst, waitS);
  }
}

/** The 429 for a key over its limit, whichever limiter found it. */
export function rateLimited(ratePerS: number, burst: number, retryAfterS: number): RateLimitedError {
  return new RateLimitedError(`Rate limit of ${ratePerS} requests/s (burst ${burst}) exceeded for this API key`, retryAfterS);
}
