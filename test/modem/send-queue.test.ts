import { describe, expect, it } from 'vitest';
import type { TimerClock, Timer } from '../../src/clock/index.ts';
import type { SubmitPdu } from '../../src/modem/driver.ts';
import { SendQueue } from '../../src/modem/send-queue.ts';

/** A clock that moves only when told to, firing due timers in order. */
class ManualClock implements TimerClock {
  #now = 0;
  #timers: { at: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    const t = { at: this.#now + Math.max(0, delayMs), fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Moves time forward to `to`, firing each due timer at its own time and letting promises settle. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.#now = due.at;
      due.fn();
    }
    this.#now = to;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

const pdu: SubmitPdu = { hex: '00', tpduLength: 0 };

/** A modem whose AT+CMGS takes `sendMs` on the clock; records when each send started. */
function modem(clock: ManualClock, sendMs: number): { starts: number[]; send: (p: SubmitPdu) => Promise<{ mr: number }> } {
  const starts: number[] = [];
  return {
    starts,
    send: () => {
      starts.push(clock.now());
      return new Promise((resolve) => clock.setTimeout(() => resolve({ mr: starts.length }), sendMs));
    },
  };
}

describe('SendQueue pacing', () => {
  it('starts sends one interval apart when the modem is faster than the pacing', async () => {
    const clock = new ManualClock();
    const m = modem(clock, 500);
    const queue = new SendQueue(m.send, clock, 30);
    const done = [queue.push(pdu), queue.push(pdu), queue.push(pdu)];
    await clock.advanceTo(10_000);
    await Promise.all(done);
    expect(m.starts).toEqual([0, 2000, 4000]);
  });

  it('adds no wait of its own when AT+CMGS takes the whole interval or longer', async () => {
    for (const sendMs of [2000, 2500]) {
      const clock = new ManualClock();
      const m = modem(clock, sendMs);
      const queue = new SendQueue(m.send, clock, 30);
      const done = [queue.push(pdu), queue.push(pdu), queue.push(pdu)];
      await clock.advanceTo(10_000);
      expect(await Promise.all(done)).toEqual([{ mr: 1 }, { mr: 2 }, { mr: 3 }]);
      expect(m.starts).toEqual([0, sendMs, 2 * sendMs]);
    }
  });

  it('counts queued and in-flight sends in its depth', async () => {
    const clock = new ManualClock();
    const m = modem(clock, 2000);
    const queue = new SendQueue(m.send, clock, 30);
    const done = [queue.push(pdu), queue.push(pdu)];
    await settle();
    expect(queue.depth).toBe(2);
    await clock.advanceTo(2000);
    expect(queue.depth).toBe(1);
    await clock.advanceTo(4000);
    await Promise.all(done);
    expect(queue.depth).toBe(0);
  });
});
