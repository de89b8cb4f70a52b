export { ledgerMonth, isLedgerMonth } from './month.ts';
export { RateLimiter, type RateLimit } from './rate-limiter.ts';
export { SharedRateLimiter, type SharedBuckets, type SharedRateLimiterOptions } from './shared-rate-limiter.ts';
export { UsageLedger, USAGE_KINDS, type UsageLine, type UsageReport } from './usage-ledger.ts';
export { KeyUsageMeter, KEY_USAGE_KINDS } from './key-usage.ts';
