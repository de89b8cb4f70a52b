import { randomBytes } from 'node:crypto';
import { systemClock, type Timer, type TimerClock } from '../clock/index.ts';
import type { Logger } from '../logging/index.ts';
import { MAX_PAYLOAD_BYTES, type Notifier, type Unlisten } from './notifier.ts';

/** The channel that carries the ids of messages changed on some node. */
export const CHANGES_CHANNEL = 'agentphone_changes';

/** How long ids are collected before one notification carries them all. */
export const CHANGES_BATCH_MS = 25;

/** Full batches kept while the bus is behind (about 8 KB each). */
const MAX_READY = 64;

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
 * of sends costs one notification per batch, not one per change. One NOTIFY is under way at a
 * time; a bus that is slower than that makes the batches bigger, and one that stays behind loses
 * the oldest batches past MAX_READY (logged) rather than holding memory without bound. Every node delivers what the
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
  /** Full batches waiting for the bus, oldest first; one NOTIFY is under way at a time. */
  readonly #ready: Array<{ payload: string; count: number }> = [];
  #sending: Promise<void> | undefined;
  /** Ids dropped because the bus stayed behind with MAX_READY batches waiting (logged at the next send's end). */
  #dropped = 0;

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
      this.#seal();
      while (this.#sending) await this.#sending;
      await unlisten();
    };
  }

  #add(id: string): void {
    if (!ID.test(id) || this.#pending.has(id)) return;
    // Each id with its separating space; ids are ASCII, one byte per character.
    const bytes = id.length + 1;
    if (this.tag.length + this.#bytes + bytes > MAX_PAYLOAD_BYTES) this.#seal();
    this.#pending.add(id);
    this.#bytes += bytes;
    this.#timer ??= this.#clock.setTimeout(() => this.#due(), this.#batchMs);
  }

  /** The batch window passed. While a send is under way the batch keeps filling: that send's end sends it. */
  #due(): void {
    this.#timer = undefined;
    if (!this.#sending) this.#seal();
  }

  /** Closes the batch being filled and sends it (after those before it). */
  #seal(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#pending.size > 0) {
      // A bus that stays behind must not hold memory without bound: the oldest batch goes.
      if (this.#ready.length >= MAX_READY) this.#dropped += this.#ready.shift()!.count;
      this.#ready.push({ payload: `${this.tag} ${[...this.#pending].join(' ')}`, count: this.#pending.size });
      this.#pending = new Set();
      this.#bytes = 0;
    }
    this.#pump();
  }

  /** One NOTIFY at a time, in order (the bus keeps one node's order; this keeps memory bounded). */
  #pump(): void {
    const next = this.#sending ? undefined : this.#ready.shift();
    if (!next) return;
    this.#sending = this.bus
      .notify(CHANGES_CHANNEL, next.payload)
      .catch((err: unknown) => {
        this.log.warn({ err, count: next.count }, "message changes not published: other nodes' live views miss them until they reload");
      })
      .finally(() => {
        this.#sending = undefined;
        if (this.#dropped > 0) this.log.warn({ count: this.#dropped }, "message changes dropped while the bus was behind: other nodes' live views miss them until they reload");
        this.#dropped = 0;
        if (this.#ready.length === 0 && this.#timer === undefined) this.#seal();
        else this.#pump();
      });
  }

  #heard(payload: string): void {
    const words = payload.split(' ');
    if (words[0] === this.tag) return;
    for (const id of words.slice(1)) if (ID.test(id)) this.feed.deliver(id);
  }
}
