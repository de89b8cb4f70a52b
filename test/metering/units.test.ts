import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.ts';
import { RateLimitedError } from '../../src/errors/index.ts';
import { ledgerMonth, RateLimiter, UsageLedger } from '../../src/metering/index.ts';
import { NumberService } from '../../src/numbers/index.ts';
import { NumbersRepository, openDatabase, UsageRepository } from '../../src/store/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';

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

describe('usage ledger', () => {
  const tempDir = useTempDir();

  it('meters per calendar month (UTC) and prices overage only where it is on', () => {
    const db = openDatabase(join(tempDir(), 'u.db'));
    const numbers = new NumberService(new NumbersRepository(db), { now: () => 0 });
    const n = numbers.lineFound('l1', '+15550000001');
    const ledger = new UsageLedger(new UsageRepository(db), validateConfig({}).metering);
    const nov = Date.parse('2026-11-30T23:59:59Z');
    ledger.chargeOutbound(n, 1990, nov);
    ledger.recordInbound(n.id, 9, nov);
    expect(() => ledger.chargeOutbound(n, 2, nov)).toThrow(/needs 2 segment\(s\) but only 1 of the 2000 included/);
    ledger.chargeOutbound(n, 1, nov);
    ledger.recordInbound(n.id, 5, nov);
    expect(ledger.report(n, '2026-11')).toMatchObject({ sms: { used: 2005, overage: 5, overageCost: 0 }, total: 29 });
    ledger.chargeOutbound(n, 2, Date.parse('2026-12-01T00:00:00Z'));
    expect(ledgerMonth(Date.parse('2026-12-01T00:00:00Z'))).toBe('2026-12');
    expect(ledger.report(n, '2026-12').sms).toMatchObject({ used: 2, outbound: 2 });
    const withOverage = numbers.setOverage(n.id, true);
    ledger.chargeOutbound(withOverage, 100, nov);
    expect(ledger.report(withOverage, '2026-11')).toMatchObject({ sms: { overage: 105, overageCost: 1.58 }, total: 30.58 });
    ledger.recordVoiceMinutes(n.id, 310, nov);
    expect(ledger.report(withOverage, '2026-11').voice).toMatchObject({ used: 310, overage: 10, overageCost: 0.2 });
  });
});
