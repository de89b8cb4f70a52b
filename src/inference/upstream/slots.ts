import { UnavailableError } from '../../errors/index.ts';

/** A counting semaphore with a bounded wait line; a waiter that aborts leaves the line. */
export class Slots {
  private inUse = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(
    private readonly max: number,
    private readonly maxQueued: number,
    private readonly what: string,
  ) {}

  get active(): number {
    return this.inUse;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.inUse < this.max) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(new UnavailableError(`${this.what} is at capacity (${this.max} in flight, ${this.waiting.length} waiting): try again shortly`));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.inUse--;
    };
  }
}
