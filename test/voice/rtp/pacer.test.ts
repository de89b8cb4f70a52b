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

const OPTS = { periodMs: 20, maxCatchUp: 25 };

describe('Pacer', () => {
  it('runs slots on absolute deadlines: a late timer does not push the next one back', () => {
    const { clock, fireAt, delays } = handFiredClock();
    const at: number[] = [];
    const pacer = new Pacer(clock, OPTS, () => at.push(clock.now()));
    pacer.start();
    fireAt(20);
    fireAt(47); // 7 ms late (the event loop was busy)
    fireAt(60);
    expect(at).toEqual([20, 47, 60]);
    expect(delays).toEqual([20, 20, 13, 20]); // the timer after the late slot is set 7 ms shorter
    pacer.stop();
  });

  it('runs slots on time and in order on a clock that moves in larger steps, numbering them from 1', () => {
    const clock = new ManualClock(0);
    const slots: number[] = [];
    const pacer = new Pacer(clock, OPTS, (n) => slots.push(n));
    pacer.start();
    clock.advance(100);
    expect(slots).toEqual([1, 2, 3, 4, 5]);
    pacer.stop();
  });

  it('does not drift over a long run: 3000 slots in 60 s', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const pacer = new Pacer(clock, OPTS, () => n++);
    pacer.start();
    for (let i = 0; i < 600; i++) clock.advance(100);
    expect(n).toBe(3000);
    pacer.stop();
  });

  it('catches up after a late timer: every slot that came due runs at once, in order, and the grid goes on', () => {
    const { clock, fireAt, delays } = handFiredClock();
    const slots: number[] = [];
    const pacer = new Pacer(clock, OPTS, (n) => slots.push(n));
    pacer.start();
    fireAt(20);
    fireAt(270); // 250 ms late: slots 2-13 were due
    expect(slots).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(delays[delays.length - 1]).toBe(10); // slot 14 is due at 280: the grid did not move
    fireAt(280);
    expect(slots.at(-1)).toBe(14);
    expect(pacer.catchUps).toBe(1);
    expect(pacer.skipped).toBe(0);
    pacer.stop();
  });

  it('bounds the burst after a stall: slots older than maxCatchUp are skipped and counted', () => {
    const { clock, fireAt } = handFiredClock();
    const slots: number[] = [];
    const pacer = new Pacer(clock, OPTS, (n) => slots.push(n));
    pacer.start();
    fireAt(20);
    fireAt(1020); // a one-second stall: slots 2-51 due, only the newest 25 run
    expect(slots).toHaveLength(26);
    expect(slots.slice(1)).toEqual(Array.from({ length: 25 }, (_, i) => 27 + i));
    expect(pacer.skipped).toBe(25);
    fireAt(1040);
    expect(slots.at(-1)).toBe(52);
    pacer.stop();
  });

  it('a timer that wakes up to 1 ms early still runs its slot rather than waiting again', () => {
    const { clock, fireAt } = handFiredClock();
    const at: number[] = [];
    const pacer = new Pacer(clock, OPTS, () => at.push(clock.now()));
    pacer.start();
    fireAt(19.5);
    fireAt(40);
    expect(at).toEqual([19.5, 40]);
    pacer.stop();
  });

  it('stops running slots once stopped', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const pacer = new Pacer(clock, OPTS, () => n++);
    pacer.start();
    clock.advance(40);
    pacer.stop();
    clock.advance(100);
    expect(n).toBe(2);
  });

  it('does not drift under ordinary lateness: 500 slots each up to 9 ms late end on the 20 ms grid', () => {
    const { clock, fireAt } = handFiredClock();
    let n = 0;
    const pacer = new Pacer(clock, OPTS, () => n++);
    pacer.start();
    let seed = 3;
    for (let k = 1; k <= 500; k++) fireAt(k * 20 + ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 10));
    fireAt(501 * 20);
    expect(n).toBe(501);
    expect(pacer.catchUps).toBe(0);
    pacer.stop();
  });

  it('takeNext() claims the next slot ahead of time; shiftEarlier() moves the grid without changing its rate', () => {
    const { clock, fireAt, delays, setNow } = handFiredClock();
    const slots: number[] = [];
    const pacer = new Pacer(clock, OPTS, (n) => slots.push(n));
    pacer.start();
    fireAt(20);
    setNow(27);
    expect(pacer.takeNext()).toBe(2); // sent at 27, 13 ms early
    expect(delays.at(-1)).toBe(33); // slot 3 stays due at 60
    fireAt(60);
    setNow(67);
    pacer.shiftEarlier(13); // slot 4 (due at 80) now due at 67
    expect(pacer.dueAt(4)).toBe(67);
    expect(pacer.takeNext()).toBe(4);
    expect(delays.at(-1)).toBe(20); // slot 5 at 87
    fireAt(87);
    expect(slots).toEqual([1, 3, 5]);
    pacer.stop();
  });
});
