/** A token bucket's state: tokens left at `updatedAt` (ms). */
export interface TokenBucket {
  tokens: number;
  updatedAt: number;
}

/** A full bucket at `now`. */
export function fullBucket(burst: number, now: number): TokenBucket {
  return { tokens: burst, updatedAt: now };
}

/**
 * Refills `bucket` (at `ratePerS`, up to `burst`) to `now` and takes one token: 0 when taken,
 * otherwise the seconds until one is there (nothing taken).
 */
export function takeToken(bucket: TokenBucket, ratePerS: number, burst: number, now: number): number {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * ratePerS);
  bucket.updatedAt = now;
  if (bucket.tokens < 1) return (1 - bucket.tokens) / ratePerS;
  bucket.tokens -= 1;
  return 0;
}
