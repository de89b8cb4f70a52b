import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../src/voice/rtp/pacer.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

/** A clock whose one pending timer the test fires at a time of its choosing (late, or after a stall). */
function handFiredClock() {
  let now = 0;
  let pending: (() => void) | undefined;
  const delays: number[] = [];
  const clock = {
    now: () => now,
    setTimeout: (fn: () => void, delayMs: number) => {
      pending = fn;
      delays.push(delayMs);
      return { cancel: () => (pending = undefined) };
    },
  };
  const fireAt = (t: number) => {
    now = t;
    const fn = pending;
    pending = undefined;
    fn?.();
  };
  return { clock, fireAt, delays };
}

describe('Pacer', () => {
  it('ticks every 20 ms on absolute deadlines: a late timer does not push the next one back', () => {
    const { clock, fireAt, delays } = handFiredClock();
    const at: number[] = [];
    const pacer = new Pacer(clock, { periodMs: 20, maxLagMs: 200 }, () => at.push(clock.now()));
    pacer.start();
    fireAt(20);
    fireAt(47); // 7 ms late (the event loop was busy)
    fireAt(60);
    expect(at).toEqual([20, 47, 60]);
    expect(delays).toEqual([20, 20, 13, 20]); // the timer after the late tick is set 7 ms shorter
    pacer.stop();
  });

  it('catches up missed ticks in order after a short stall, keeping the count exact', () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const pacer = new Pacer(clock, { periodMs: 20, maxLagMs: 200 }, (n) => ticks.push(n));
    pacer.start();
    clock.advance(100);
    expect(ticks).toEqual([1, 2, 3, 4, 5]);
    pacer.stop();
  });

  it('does not drift over a long run: 3000 ticks in 60 s', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const pacer = new Pacer(clock, { periodMs: 20, maxLagMs: 200 }, () => n++);
    pacer.start();
    for (let i = 0; i < 600; i++) clock.advance(100);
    expect(n).toBe(3000);
    pacer.stop();
  });

  it('restarts the schedule after a stall longer than maxLagMs instead of bursting', () => {
    const { clock, fireAt } = handFiredClock();
    let n = 0;
    const pacer = new Pacer(clock, { periodMs: 20, maxLagMs: 100 }, () => n++);
    pacer.start();
    fireAt(20);
    expect(n).toBe(1);
    fireAt(1020); // the process stalled for a second: one tick, not fifty
    expect(n).toBe(2);
    expect(pacer.reanchors).toBe(1);
    fireAt(1040); // and the schedule continues from the stall
    expect(n).toBe(3);
    pacer.stop();
  });

  it('stops ticking once stopped', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const pacer = new Pacer(clock, { periodMs: 20, maxLagMs: 200 }, () => n++);
    pacer.start();
    clock.advance(40);
    pacer.stop();
    clock.advance(100);
    expect(n).toBe(2);
  });
});
