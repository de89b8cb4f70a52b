import type { TimerClock } from '../clock/index.ts';
import type { SendHooks, SubmitPdu } from './driver.ts';

interface Item {
  pdu: SubmitPdu;
  hooks: SendHooks | undefined;
  resolve: (value: { mr: number }) => void;
  reject: (error: unknown) => void;
}

/**
 * One line's outgoing queue: sends one PDU at a time and starts sends no closer together
 * than the pacing allows, so one slow or throttled modem never holds up another.
 */
export class SendQueue {
  #items: Item[] = [];
  #running = false;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #inFlight = 0;
  #send: (pdu: SubmitPdu, hooks?: SendHooks) => Promise<{ mr: number }>;
  #clock: TimerClock;
  #intervalMs: number;

  constructor(send: (pdu: SubmitPdu, hooks?: SendHooks) => Promise<{ mr: number }>, clock: TimerClock, messagesPerMinute: number) {
    if (!(messagesPerMinute > 0)) throw new RangeError('messagesPerMinute must be a positive number');
    this.#send = send;
    this.#clock = clock;
    this.#intervalMs = 60_000 / messagesPerMinute;
  }

  get depth(): number {
    return this.#items.length + this.#inFlight;
  }

  push(pdu: SubmitPdu, hooks?: SendHooks): Promise<{ mr: number }> {
    return new Promise((resolve, reject) => {
      this.#items.push({ pdu, hooks, resolve, reject });
      void this.#run();
    });
  }

  /** Rejects everything still waiting (the pool is stopping). */
  clear(error: unknown): void {
    for (const item of this.#items.splice(0)) item.reject(error);
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let item = this.#items.shift(); item; item = this.#items.shift()) {
        this.#inFlight = 1;
        const waitMs = this.#lastStartMs + this.#intervalMs - this.#clock.now();
        if (waitMs > 0) await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, waitMs));
        this.#lastStartMs = this.#clock.now();
        try {
          item.resolve(await this.#send(item.pdu, item.hooks));
        } catch (error) {
          item.reject(error);
        } finally {
          this.#inFlight = 0;
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
