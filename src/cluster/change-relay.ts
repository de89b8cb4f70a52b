import { randomBytes } from 'node:crypto';
import { systemClock, type Timer, type TimerClock } from '../clock/index.ts';
import type { Logger } from '../logging/index.ts';
import { MAX_PAYLOAD_BYTES, type Notifier, type Unlisten } from './notifier.ts';

/** The channel that carries the ids of messages changed on some node. */
export const CHANGES_CHANNEL = 'agentphone_changes';

/** How long ids are collected before one notification carries them all. */
export const CHANGES_BATCH_MS = 25;

/** An id as the gateway makes them; anything else heard on the channel is dropped. */
const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** The node's change feed (MessageChanges): what the relay publishes from and delivers to. */
export interface ChangeFeed {
  /** Set by the relay: told every change this node committed. */
  publish: ((id: string) => void) | undefined;
  /** A change another node committed: told to this node's listeners only. */
  deliver(id: string): void;
  /** Notifications were lost: listeners must read again what they show. */
  resync(): void;
}

export interface ChangeRelayOptions {
  batchMs?: number;
  clock?: TimerClock;
}

/**
 * Message changes across the nodes of a cluster. Each node tells its own listeners at once (the
 * feed does, after commit) and publishes the ids on the bus, batched: ids committed within
 * `batchMs` leave in one NOTIFY (`<tag> <id> <id>…`, up to the bus's payload limit), so a burst
 * of sends costs one notification per batch, not one per change. Every node delivers what the
 * others published to its listeners; its own notifications come back with its tag and are
 * skipped, so a change reaches this node's listeners once, without the batch window and the
 * round trip through PostgreSQL, and even while the bus is down.
 */
export class ChangeRelay {
  /** Tells this process's notifications from another's (two processes may share a node id). */
  readonly tag = randomBytes(6).toString('hex');
  readonly #batchMs: number;
  readonly #clock: TimerClock;
  #pending = new Set<string>();
  #bytes = 0;
  #timer: Timer | undefined;
  #sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: Notifier,
    private readonly feed: ChangeFeed,
    private readonly log: Logger,
    options: ChangeRelayOptions = {},
  ) {
    this.#batchMs = options.batchMs ?? CHANGES_BATCH_MS;
    this.#clock = options.clock ?? systemClock;
  }

  /** Starts publishing this node's changes and delivering the others'; returns the stop (which sends what is pending). */
  async start(): Promise<Unlisten> {
    const unlisten = await this.bus.listen(CHANGES_CHANNEL, (payload) => this.#heard(payload));
    const offResync = this.bus.onResync(() => this.feed.resync());
    this.feed.publish = (id) => this.#add(id);
    return async () => {
      this.feed.publish = undefined;
      offResync();
      this.#flush();
      await this.#sending;
      await unlisten();
    };
  }

  #add(id: string): void {
    if (!ID.test(id) || this.#pending.has(id)) return;
    // Each id with its separating space; ids are ASCII, one byte per character.
    const bytes = id.length + 1;
    if (this.tag.length + this.#bytes + bytes > MAX_PAYLOAD_BYTES) this.#flush();
    this.#pending.add(id);
    this.#bytes += bytes;
    this.#timer ??= this.#clock.setTimeout(() => this.#flush(), this.#batchMs);
  }

  #flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    const payload = `${this.tag} ${[...this.#pending].join(' ')}`;
    const count = this.#pending.size;
    this.#pending = new Set();
    this.#bytes = 0;
    // The bus sends one node's notifications in call order; chained so stop() can wait for the last.
    this.#sending = this.#sending.then(() =>
      this.bus.notify(CHANGES_CHANNEL, payload).catch((err: unknown) => {
        this.log.warn({ err, count }, 'message changes not published: other nodes\' live views miss them until they reload');
      }),
    );
  }

  #heard(payload: string): void {
    const words = payload.split(' ');
    if (words[0] === this.tag) return;
    for (const id of words.slice(1)) if (ID.test(id)) this.feed.deliver(id);
  }
}
