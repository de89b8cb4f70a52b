/** What happened on one delivery attempt. */
export interface AttemptOutcome {
  /** HTTP status, or undefined for a timeout / refused connection. */
  status?: number | undefined;
  /** Seconds from a Retry-After header on 429/503. */
  retryAfterS?: number | undefined;
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  maxAttempts: number;
  /** Delay after attempt n (1-based) before attempt n+1; the last entry repeats. */
  delaysMs: readonly number[];
  /** ± fraction of random spread so retries from many events do not arrive together. */
  jitter: number;
  /** Longest Retry-After honoured. */
  maxRetryAfterMs: number;
}

/** 8 attempts over about 24 hours. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  delaysMs: [30_000, 120_000, 600_000, 1_800_000, 7_200_000, 21_600_000, 54_000_000],
  jitter: 0.2,
  maxRetryAfterMs: 3_600_000,
};

/**
 * The delay before the next attempt, or null when the event is to be dead-lettered. Pure:
 * `random` is a number in [0, 1) supplied by the caller.
 */
export function nextRetryDelayMs(policy: RetryPolicy, attempt: number, outcome: AttemptOutcome, random: number): number | null {
  if (attempt >= policy.maxAttempts) return null;
  // A 4xx other than timeout/too-many is still retried: receivers often 404 while deploying.
  const base = policy.delaysMs[Math.min(attempt - 1, policy.delaysMs.length - 1)] ?? 0;
  const spread = base * policy.jitter * (2 * random - 1);
  const delay = Math.round(base + spread);
  if (outcome.retryAfterS !== undefined && (outcome.status === 429 || outcome.status === 503)) {
    return Math.max(delay, Math.min(outcome.retryAfterS * 1000, policy.maxRetryAfterMs));
  }
  return delay;
}
