import type { TimerClock, Timer } from '../../clock/index.ts';

/** How early a timer may wake and still run its slot (see Pacer). */
const EARLY_MS = 1;

export interface PacerOptions {
  periodMs: number;
  /**
   * Most slots run in one burst when the timer fires late; slots older than that are skipped
   * (counted in `skipped`). Bounds the burst a receiver gets after a stall.
   */
  maxCatchUp: number;
}

/**
 * A fixed grid of slots on the monotonic clock: slot n is due at anchor + n × period, for the
 * whole life of the stream. Each timer is set for the next slot's deadline (never chained from
 * the previous firing), and a timer that fires late runs every slot that has come due, in order,
 * so a busy event loop delays packets but never drops or slows the stream: over a call the slot
 * rate is exactly 1000 / period per second.
 *
 * A slot within `EARLY_MS` of its deadline counts as due: timers fire on a millisecond loop clock
 * and can wake a fraction of a millisecond early; waiting again would make that slot 1 ms late.
 */
export class Pacer {
  private anchor = 0;
  /** The next slot to run. */
  private next = 1;
  private timer: Timer | undefined;
  private running = false;
  /** Timer firings that ran more than one slot (the timer was at least a period late). */
  catchUps = 0;
  /** Slots skipped because the timer was later than `maxCatchUp` periods. */
  skipped = 0;

  constructor(
    private readonly clock: TimerClock,
    private readonly options: PacerOptions,
    private readonly onSlot: (slot: number) => void,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** The slot that runs next. */
  get nextSlot(): number {
    return this.next;
  }

  /** When slot `n` is due on the clock. */
  dueAt(slot: number): number {
    return this.anchor + slot * this.options.periodMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.anchor = this.clock.now();
    this.next = 1;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Claims the next slot to run now, ahead of its deadline; it will not run from the timer. */
  takeNext(): number {
    const slot = this.next++;
    if (this.running) this.schedule();
    return slot;
  }

  /**
   * Moves the whole grid earlier by `ms` (0 ≤ ms ≤ one period), so the next slot is due that much
   * sooner. The rate is unchanged; the caller moves its timestamps by the same amount.
   */
  shiftEarlier(ms: number): void {
    this.anchor -= Math.min(Math.max(ms, 0), this.options.periodMs);
    if (this.running) this.schedule();
  }

  private schedule(): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => this.fire(), this.dueAt(this.next) - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    const last = Math.floor((now + EARLY_MS - this.anchor) / this.options.periodMs);
    if (last - this.next + 1 > this.options.maxCatchUp) {
      const from = last - this.options.maxCatchUp + 1;
      this.skipped += from - this.next;
      this.next = from;
    }
    if (last > this.next) this.catchUps++;
    while (this.running && this.next <= last) this.onSlot(this.next++);
    // onSlot may have stopped the pacer or claimed slots (and scheduled) already.
    if (this.running && this.timer === undefined) this.schedule();
  }
}
