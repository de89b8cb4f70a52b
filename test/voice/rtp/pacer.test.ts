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
  /** Time passes without the timer firing (work done between ticks). */
  const setNow = (t: number) => (now = t);
  return { clock, fireAt, delays, setNow };
}

describe('Pacer', () => {
  it('ticks every 20 ms on absolute deadlines: a late timer does not push the next one back', () => {
    const { clock, fireAt, delays } = handFiredClock();
    const at: number[] = [];
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => at.push(clock.now()));
    pacer.start();
    fireAt(20);
    fireAt(47); // 7 ms late (the event loop was busy)
    fireAt(60);
    expect(at).toEqual([20, 47, 60]);
    expect(delays).toEqual([20, 20, 13, 20]); // the timer after the late tick is set 7 ms shorter
    pacer.stop();
  });

  it('ticks on time and in order on a clock that moves in larger steps, keeping the count exact', () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, (n) => ticks.push(n));
    pacer.start();
    clock.advance(100);
    expect(ticks).toEqual([1, 2, 3, 4, 5]);
    pacer.stop();
  });

  it('does not drift over a long run: 3000 ticks in 60 s', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => n++);
    pacer.start();
    for (let i = 0; i < 600; i++) clock.advance(100);
    expect(n).toBe(3000);
    pacer.stop();
  });

  it('restarts the schedule after a stall instead of bursting', () => {
    const { clock, fireAt } = handFiredClock();
    let n = 0;
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => n++);
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
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => n++);
    pacer.start();
    clock.advance(40);
    pacer.stop();
    clock.advance(100);
    expect(n).toBe(2);
  });

  it('never runs two ticks back to back after a late timer: up to half a period late keeps the absolute deadlines, later re-anchors', () => {
    const { clock, fireAt } = handFiredClock();
    const at: number[] = [];
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => at.push(clock.now()));
    pacer.start();
    fireAt(20);
    fireAt(49); // 9 ms late: the next deadline stays at 60
    fireAt(60);
    fireAt(98); // 18 ms late: one tick, and the schedule restarts from it (next at 118, not 100)
    fireAt(118);
    fireAt(175); // a 37 ms stall: still one tick, not two
    fireAt(195);
    expect(at).toEqual([20, 49, 60, 98, 118, 175, 195]);
    const spacing = at.slice(1).map((t, i) => t - (at[i] as number));
    expect(Math.min(...spacing)).toBeGreaterThanOrEqual(10);
    expect(pacer.reanchors).toBe(2);
    pacer.stop();
  });

  it('does not drift under ordinary lateness: 500 ticks each up to 9 ms late end on the 20 ms grid', () => {
    const { clock, fireAt } = handFiredClock();
    let n = 0;
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => n++);
    pacer.start();
    let seed = 3;
    for (let k = 1; k <= 500; k++) fireAt(k * 20 + ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 10));
    fireAt(501 * 20);
    expect(n).toBe(501);
    expect(pacer.reanchors).toBe(0);
    pacer.stop();
  });

  it('restart() re-anchors: after a tick run out of schedule the next comes a full period later', () => {
    const { clock, fireAt, delays, setNow } = handFiredClock();
    const at: number[] = [];
    const pacer = new Pacer(clock, { periodMs: 20, reanchorAfterMs: 10 }, () => at.push(clock.now()));
    pacer.start();
    fireAt(20);
    // Something was sent at 27, out of schedule: the pacer continues from there.
    setNow(27);
    pacer.restart();
    expect(delays[delays.length - 1]).toBe(20);
    fireAt(47);
    expect(at).toEqual([20, 47]);
    pacer.stop();
  });
});
