import type { Logger } from '../logging/index.ts';
import type { Notifier, Unlisten } from './notifier.ts';

/** The channel every node listens on for "look again" hints. */
export const WAKE_CHANNEL = 'agentphone_wake';

/** What a wake-up makes this node look at again. */
export interface WakeTargets {
  /** A line's outbound queue (undefined: every line's). */
  outbound(lineId: string | undefined): void;
  mms(): void;
  /** A number's row changed on some node: re-read it. */
  number(id: string): Promise<void>;
  /** A call was queued: a voice node claims it. */
  call(): void;
  /** The API asked to end a call: the node it lives on ends it. */
  hangup(callId: string): void;
  /** The bus lost notifications: look at everything again. */
  everything(): void;
}

/**
 * Wake-ups across the nodes of a cluster: work accepted on one node (a send for a line another
 * node drives, a number's new webhook URL, a queued call) is announced on the bus, and every
 * node, this one included, looks again. A hint carries no state: `line:<id>`, `mms`,
 * `number:<id>`, `call`, `hangup:<call id>`. A lost hint costs latency, never a message: each
 * waker also polls on its own timer (a lost `hangup` leaves the call up; the API answers with it
 * still live, and it can be asked again).
 */
export class ClusterWake {
  private readonly pending = new Set<string>();

  constructor(
    private readonly bus: Notifier,
    private readonly log: Logger,
  ) {}

  line(lineId?: string): void {
    this.send(`line:${lineId ?? ''}`);
  }

  mms(): void {
    this.send('mms');
  }

  number(id: string): void {
    this.send(`number:${id}`);
  }

  call(): void {
    this.send('call');
  }

  hangup(callId: string): void {
    this.send(`hangup:${callId}`);
  }

  /** Starts acting on every node's hints; returns the stop. */
  async listen(targets: WakeTargets): Promise<Unlisten> {
    const unlisten = await this.bus.listen(WAKE_CHANNEL, (payload) => {
      const colon = payload.indexOf(':');
      const kind = colon < 0 ? payload : payload.slice(0, colon);
      const arg = colon < 0 ? '' : payload.slice(colon + 1);
      if (kind === 'line') targets.outbound(arg === '' ? undefined : arg);
      else if (kind === 'mms') targets.mms();
      else if (kind === 'call') targets.call();
      else if (kind === 'hangup' && arg !== '') targets.hangup(arg);
      else if (kind === 'number' && arg !== '') {
        targets.number(arg).catch((err: unknown) => this.log.warn({ err, number: arg }, 'could not re-read a number another node changed'));
      }
    });
    const offResync = this.bus.onResync(() => targets.everything());
    return async () => {
      offResync();
      await unlisten();
    };
  }

  /**
   * Hints given in one turn of the event loop go out once each: a burst of sends for one line is
   * one NOTIFY, not one per send.
   */
  private send(payload: string): void {
    if (this.pending.size === 0) setImmediate(() => this.flush());
    this.pending.add(payload);
  }

  private flush(): void {
    const payloads = [...this.pending];
    this.pending.clear();
    for (const payload of payloads) {
      this.bus.notify(WAKE_CHANNEL, payload).catch((err: unknown) => {
        this.log.warn({ err }, 'cluster wake-up not sent: the other nodes find the work on their own timers');
      });
    }
  }
}
