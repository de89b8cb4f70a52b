import type { VoiceClock, VoiceTimer } from '../clock.ts';

export interface PacerOptions {
  periodMs: number;
  /** Later than this behind schedule (a stalled process), the schedule restarts from now instead of bursting. */
  maxLagMs: number;
}

/**
 * A periodic tick on absolute deadlines (start + n × period), so timer lateness never
 * accumulates into drift: a tick that fires 3 ms late is followed by one scheduled 3 ms sooner.
 * Ticks missed by less than `maxLagMs` are caught up at once, in order.
 */
export class Pacer {
  private anchor = 0;
  private ticks = 0;
  private timer: VoiceTimer | undefined;
  private running = false;
  /** Times the schedule was restarted after a stall. */
  reanchors = 0;

  constructor(
    private readonly clock: VoiceClock,
    private readonly options: PacerOptions,
    private readonly onTick: (tick: number) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.anchor = this.clock.now();
    this.ticks = 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    const due = this.anchor + (this.ticks + 1) * this.options.periodMs;
    this.timer = this.clock.setTimeout(() => this.fire(), due - this.clock.now());
  }

  private fire(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const lag = now - (this.anchor + (this.ticks + 1) * this.options.periodMs);
    if (lag > this.options.maxLagMs) {
      this.reanchors++;
      this.anchor = now - (this.ticks + 1) * this.options.periodMs;
    }
    // Every tick whose deadline has passed runs now, in order.
    while (this.running && this.anchor + (this.ticks + 1) * this.options.periodMs <= now) {
      this.ticks++;
      this.onTick(this.ticks);
    }
    if (this.running) this.schedule();
  }
}
