/** Time as the modem code sees it: injected so tests and benchmarks can drive it. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, delayMs: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    const handle = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * A clock that runs `factor` times faster than wall time. The pool benchmark uses it so
 * that 1 000 sends at 2 s each take seconds, while every component still sees 2 s.
 */
export function scaledClock(factor: number): Clock {
  if (!(factor > 0)) throw new RangeError('scaledClock factor must be a positive number');
  // performance.now() rather than Date.now(): whole wall milliseconds would read as steps
  // of `factor` ms, coarse enough to upset pacing arithmetic at large factors.
  const origin = Date.now();
  const start = performance.now();
  return {
    now: () => origin + (performance.now() - start) * factor,
    setTimeout(fn, delayMs) {
      const handle = setTimeout(fn, Math.max(0, delayMs / factor));
      return { cancel: () => clearTimeout(handle) };
    },
  };
}

/** Resolves after `delayMs` on the given clock. */
export function delay(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, delayMs));
}
