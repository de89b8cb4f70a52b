import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/errors/index.ts';
import { ledgerMonth, RateLimiter } from '../../src/metering/index.ts';

describe('rate limiter', () => {
  it('allows a burst, then refills at the sustained rate and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, { now: () => now });
    for (let i = 0; i < 3; i++) limiter.take('k');
    let error: unknown;
    try {
      limiter.take('k');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterS).toBeCloseTo(0.5);
    limiter.take('other');
    now += 500;
    limiter.take('k');
    expect(() => limiter.take('k')).toThrow(RateLimitedError);
  });
});

// The usage ledger's tests run on both dialects in test/store/usage-contract.test.ts.

describe('ledger month', () => {
  it('is the UTC calendar month', () => {
    expect(ledgerMonth(Date.parse('2026-11-30T23:59:59Z'))).toBe('2026-11');
    expect(ledgerMonth(Date.parse('2026-12-01T00:00:00Z'))).toBe('2026-12');
  });
});
