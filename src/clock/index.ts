/** The time source, injected so tests control it. */
export interface Clock {
  now(): number;
}

export interface Timer {
  cancel(): void;
}

/** A clock with timers, for code that waits (modems, pacing, backoff). */
export interface TimerClock extends Clock {
  setTimeout(fn: () => void, delayMs: number): Timer;
}

function timeout(fn: () => void, delayMs: number): Timer {
  const handle = setTimeout(fn, Math.max(0, delayMs));
  return { cancel: () => clearTimeout(handle) };
}

/** Wall-clock milliseconds (Date.now), for timestamps that are stored or shown. */
export const systemClock: TimerClock = { now: () => Date.now(), setTimeout: timeout };

/** Monotonic milliseconds (performance.now), for media pacing that must not jump with NTP. */
export const monotonicClock: TimerClock = { now: () => performance.now(), setTimeout: timeout };

/**
 * A clock that runs `factor` times faster than wall time. The pool benchmark uses it so
 * that 1 000 sends at 2 s each take seconds, while every component still sees 2 s.
 */
export function scaledClock(factor: number): TimerClock {
  if (!(factor > 0)) throw new RangeError('scaledClock factor must be a positive number');
  // performance.now() rather than Date.now(): whole wall milliseconds would read as steps
  // of `factor` ms, coarse enough to upset pacing arithmetic at large factors.
  const origin = Date.now();
  const start = performance.now();
  return {
    now: () => origin + (performance.now() - start) * factor,
    setTimeout: (fn, delayMs) => timeout(fn, delayMs / factor),
  };
}

/** Resolves after `delayMs` on the given clock. */
export function delay(clock: TimerClock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, delayMs));
}
