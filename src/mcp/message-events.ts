import type { MessageRecord, MessagesRepository } from '../store/index.ts';

export type MessageListener = (message: MessageRecord) => void;

/**
 * Messages as they are stored or change (received, queued, sent, delivered), read back once
 * their transaction has committed. One listener on the repository serves every MCP session:
 * wait_for_reply and resource subscriptions register here, bounded by `maxListeners`.
 */
export class MessageEvents {
  /** Each listener with what it runs on a resync. */
  private readonly listeners = new Map<MessageListener, (() => void) | undefined>();
  private readonly pending = new Set<string>();
  private off: (() => void) | undefined;
  private flushScheduled = false;

  constructor(
    private readonly messages: MessagesRepository,
    readonly maxListeners = 10_000,
    /** Told when a changed message cannot be read back (its listeners then miss that change). */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Calls `listener` for each changed message until the returned function is called; undefined
   * when full. `onResync` runs when changes may have been missed (on a cluster, the bus between
   * the nodes lost notifications): the subscriber reads again what it waits for.
   */
  subscribe(listener: MessageListener, onResync?: () => void): (() => void) | undefined {
    if (this.listeners.size >= this.maxListeners) return undefined;
    this.listeners.set(listener, onResync);
    if (!this.off) {
      const offChange = this.messages.onChange((id) => this.heard(id));
      const offResync = this.messages.onResync(() => this.resync());
      this.off = () => {
        offChange();
        offResync();
      };
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.off) {
        this.off();
        this.off = undefined;
      }
    };
  }

  private resync(): void {
    for (const onResync of [...this.listeners.values()]) onResync?.();
  }

  private heard(id: string): void {
    this.pending.add(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Heard once the change has committed; read together with the others heard this turn.
    setImmediate(() => void this.flush());
  }

  /** In the order heard, one read at a time: listeners see a message's changes in order. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const ids = [...this.pending];
    this.pending.clear();
    for (const id of ids) {
      let message: MessageRecord | undefined;
      try {
        message = await this.messages.get(id);
      } catch (err) {
        this.onError(err);
        continue;
      }
      if (!message) continue;
      for (const listener of [...this.listeners.keys()]) listener(message);
    }
  }
}
