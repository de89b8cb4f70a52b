import type { TimerClock, Timer } from '../../clock/index.ts';

export interface PacerOptions {
  periodMs: number;
  /**
   * A tick later than this re-anchors the schedule at the moment it ran. Capped at half a
   * period, so a late tick is never followed by another less than half a period later.
   */
  reanchorAfterMs: number;
}

/**
 * A periodic tick on absolute deadlines (anchor + n × period), so ordinary timer lateness never
 * accumulates into drift: a tick that fires 3 ms late is followed by one scheduled 3 ms sooner.
 *
 * Missed ticks are never caught up. A tick later than `reanchorAfterMs` (at most half a period)
 * runs once and the schedule restarts from it: the next tick is a full period later. For RTP this
 * is the choice that keeps packet spacing: catching up would send packets back to back, and
 * skipping a slot would leave a hole in the reply (or a 40 ms gap) that the caller hears; a
 * re-anchored stream is one packet late once, which the far end's jitter buffer absorbs, and its
 * timestamps stay contiguous.
 */
export class Pacer {
  private anchor = 0;
  /** Slot of the pending deadline, counted from the anchor. */
  private slot = 0;
  private count = 0;
  private timer: Timer | undefined;
  private running = false;
  /** Times the schedule was re-anchored after a late tick. */
  reanchors = 0;

  constructor(
    private readonly clock: TimerClock,
    private readonly options: PacerOptions,
    private readonly onTick: (tick: number) => void,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.count = 0;
    this.restart();
  }

  /** Re-anchors the schedule at now: the next tick is one period away (after a send out of schedule). */
  restart(): void {
    if (!this.running) return;
    this.timer?.cancel();
    this.anchor = this.clock.now();
    this.slot = 1;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private due(): number {
    return this.anchor + this.slot * this.options.periodMs;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => this.fire(), this.due() - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    const lateMs = now - this.due();
    if (lateMs > Math.min(this.options.reanchorAfterMs, this.options.periodMs / 2)) {
      this.reanchors++;
      this.anchor = now;
      this.slot = 0;
    }
    this.slot++;
    this.count++;
    this.onTick(this.count);
    // onTick may have re-anchored (and scheduled) already.
    if (this.running && this.timer === undefined) this.schedule();
  }
}
