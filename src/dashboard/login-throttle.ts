import type { Clock } from '../clock/index.ts';

interface Failures {
  count: number;
  /** No attempt is judged before this time (ms). */
  lockedUntil: number;
  lastAt: number;
}

export interface LoginThrottleOptions {
  /** Failures from one address before each further attempt must wait. */
  freeFailures: number;
  /** The first wait; each further failure doubles it. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Addresses remembered at most (the oldest are forgotten first): memory stays bounded under a spray. */
  maxAddresses?: number;
}

/**
 * Dashboard login attempts per client address: after `freeFailures` failures every further
 * one locks the address out for a time that doubles (1 s, 2 s, 4 s … up to 15 min), so the
 * admin token cannot be guessed at network speed. A success clears the address; a quiet
 * address is forgotten once its lockout has passed twice over.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, Failures>();
  readonly #base: number;
  readonly #max: number;
  readonly #maxAddresses: number;

  constructor(
    private readonly clock: Clock,
    private readonly o: LoginThrottleOptions,
  ) {
    this.#base = o.baseDelayMs ?? 1000;
    this.#max = o.maxDelayMs ?? 15 * 60_000;
    this.#maxAddresses = o.maxAddresses ?? 10_000;
  }

  /** Milliseconds this address must still wait before an attempt is judged; 0 when it may try now. */
  waitMs(address: string): number {
    const f = this.#failures.get(address);
    return f ? Math.max(0, f.lockedUntil - this.clock.now()) : 0;
  }

  /** Records a failed attempt; returns the failures so far and the wait it now imposes. */
  failed(address: string): { failures: number; lockedForMs: number } {
    const now = this.clock.now();
    const f = this.#failures.get(address) ?? { count: 0, lockedUntil: 0, lastAt: now };
    f.count += 1;
    f.lastAt = now;
    const over = f.count - this.o.freeFailures;
    const lockedForMs = over > 0 ? Math.min(this.#max, this.#base * 2 ** Math.min(over - 1, 30)) : 0;
    f.lockedUntil = now + lockedForMs;
    // Re-inserted so the map's order is least recently failed first.
    this.#failures.delete(address);
    this.#failures.set(address, f);
    this.#sweep(now);
    return { failures: f.count, lockedForMs };
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }

  #sweep(now: number): void {
    for (const [address, f] of this.#failures) {
      const quietFor = now - f.lastAt;
      const stale = quietFor > Math.max(2 * (f.lockedUntil - f.lastAt), this.#max);
      if (!stale && this.#failures.size <= this.#maxAddresses) break;
      this.#failures.delete(address);
    }
  }
}
