import type { Clock } from '../clock/index.ts';
import { RateLimitedError } from '../errors/index.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token bucket per API key: `ratePerS` sustained, `burst` at once. In memory, per process. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one token for `key` or throws a 429 RateLimitedError carrying Retry-After. */
  take(key: string): void {
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.ratePerS);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfterS = (1 - bucket.tokens) / this.ratePerS;
      throw new RateLimitedError(`Rate limit of ${this.ratePerS} requests/s (burst ${this.burst}) exceeded for this API key`, retryAfterS);
    }
    bucket.tokens -= 1;
  }
}
