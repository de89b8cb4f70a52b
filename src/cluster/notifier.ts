/**
 * The cluster's wake-up bus: "something changed in table X, look again". A notification carries
 * a hint, never the state itself; consumers re-read their tables on a wake-up, and on `resync`
 * (the bus lost notifications, so every table must be looked at again).
 */
import { ValidationError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';

export type NotifyHandler = (payload: string) => void;

/** Stops one subscription; resolves once the channel is no longer listened to, if it was the last. */
export type Unlisten = () => Promise<void>;

export interface Notifier {
  /** Sends `payload` to every listener of `channel` on every node, this one included. */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Calls `handler` for each notification on `channel`, asynchronously, in the order they were
   * sent from one node. The subscription outlives connection losses (see onResync).
   */
  listen(channel: string, handler: NotifyHandler): Promise<Unlisten>;
  /**
   * Calls `handler` after the bus lost its connection and got it back: notifications sent in
   * between are lost, so consumers must re-poll what they watch. Returns the unsubscribe.
   */
  onResync(handler: () => void): () => void;
  /** Stops delivery, ends connections and timers; notify/listen afterwards are refused. */
  close(): Promise<void>;
}

/** NAMEDATALEN - 1: PostgreSQL truncates longer identifiers, which would merge channels. */
export const MAX_CHANNEL_BYTES = 63;
/** PostgreSQL refuses a payload of 8000 bytes or more (default build). */
export const MAX_PAYLOAD_BYTES = 7999;

const CHANNEL = /^[a-z0-9_]+$/;

/** Throws ValidationError unless `channel` is 1–63 lowercase letters, digits or underscores. */
export function assertChannel(channel: string): void {
  if (channel.length === 0 || channel.length > MAX_CHANNEL_BYTES || !CHANNEL.test(channel)) {
    throw new ValidationError(`notify channel must be 1-${MAX_CHANNEL_BYTES} lowercase letters, digits or underscores`);
  }
}

/** Throws ValidationError for a payload PostgreSQL would refuse: too long, or holding NUL. */
export function assertPayload(payload: string): void {
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new ValidationError(`notify payload is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed`);
  }
  if (payload.includes('\0')) throw new ValidationError('notify payload must not contain NUL characters');
}

interface Subscription {
  readonly channel: string;
  readonly handler: NotifyHandler;
}

/**
 * Who listens to what, and delivery that survives its handlers: one that throws (or rejects)
 * is logged and the others still run. Shared by both notifiers.
 */
export class Subscriptions {
  readonly #byChannel = new Map<string, Set<Subscription>>();
  readonly #resync = new Set<() => void>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Adds a handler; `first` says whether the channel had none before. */
  add(channel: string, handler: NotifyHandler): { subscription: Subscription; first: boolean } {
    let set = this.#byChannel.get(channel);
    const first = set === undefined;
    if (!set) this.#byChannel.set(channel, (set = new Set()));
    const subscription = { channel, handler };
    set.add(subscription);
    return { subscription, first };
  }

  /** Removes a handler; true when it was the channel's last one. Idempotent. */
  remove(subscription: Subscription): boolean {
    const set = this.#byChannel.get(subscription.channel);
    if (!set?.delete(subscription)) return false;
    if (set.size > 0) return false;
    this.#byChannel.delete(subscription.channel);
    return true;
  }

  has(channel: string): boolean {
    return this.#byChannel.has(channel);
  }

  channels(): string[] {
    return [...this.#byChannel.keys()];
  }

  dispatch(channel: string, payload: string): void {
    const set = this.#byChannel.get(channel);
    if (!set) return;
    for (const s of [...set]) {
      // A handler removed by an earlier one in this round is not called.
      if (set.has(s)) this.#call(() => s.handler(payload), channel);
    }
  }

  onResync(handler: () => void): () => void {
    this.#resync.add(handler);
    return () => void this.#resync.delete(handler);
  }

  resync(): void {
    for (const h of [...this.#resync]) this.#call(h, undefined);
  }

  clear(): void {
    this.#byChannel.clear();
    this.#resync.clear();
  }

  #call(fn: () => unknown, channel: string | undefined): void {
    const fail = (err: unknown) => this.#log.error({ err, channel }, 'notify handler failed');
    try {
      const result = fn();
      // An async handler's rejection must not become an unhandled rejection.
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}
