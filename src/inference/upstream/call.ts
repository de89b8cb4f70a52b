/** One request's abort wiring: the client's signal, the headers deadline and the idle deadline. */
export class UpstreamCall {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  timedOut: string | undefined;
  clientGone = false;
  private readonly onClientAbort = () => {
    this.clientGone = true;
    this.controller.abort(new Error('client went away'));
  };

  constructor(
    private readonly client: AbortSignal,
    private readonly idleMs: number,
  ) {
    if (client.aborted) this.onClientAbort();
    else client.addEventListener('abort', this.onClientAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  armHeaders(ms: number): void {
    this.set(ms, `did not answer within ${ms} ms`);
  }

  /** (Re)starts the idle deadline: called on each chunk. */
  arm(): void {
    this.set(this.idleMs, `went silent for ${this.idleMs} ms`);
  }

  finish(): void {
    clearTimeout(this.timer);
    this.client.removeEventListener('abort', this.onClientAbort);
  }

  private set(ms: number, why: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = why;
      this.controller.abort(new Error(why));
    }, ms);
    this.timer.unref();
  }
}
