import type { Timer, TimerClock } from '../../../src/clock/index.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

/**
 * A ManualClock whose timers fire late, each by a random amount up to `maxLateMs` (seeded): an
 * event loop busy with other work. Time still moves only when the test advances it.
 */
export class LateClock implements TimerClock {
  readonly inner = new ManualClock(0);
  private state: number;

  constructor(
    private readonly maxLateMs: number,
    seed = 1,
  ) {
    this.state = seed >>> 0 || 1;
  }

  now(): number {
    return this.inner.now();
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    return this.inner.setTimeout(fn, Math.max(0, delayMs) + this.lateness());
  }

  advance(ms: number): void {
    this.inner.advance(ms);
  }

  /** xorshift32, so a failing run replays exactly. */
  private lateness(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return (this.state / 2 ** 32) * this.maxLateMs;
  }
}
