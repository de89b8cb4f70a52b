import { UnavailableError } from '../errors/index.ts';
import type { Logger } from '../logging/index.ts';
import { assertChannel, assertPayload, Subscriptions, type Notifier, type NotifyHandler, type Unlisten } from './notifier.ts';

/**
 * The bus of a single node (SQLite): in-process, same contract as PgNotifier. Delivery is
 * queued (a microtask per notification, so in order), never inside notify() itself. It has no
 * connection to lose, so resync never fires.
 */
export class LocalNotifier implements Notifier {
  readonly #subs: Subscriptions;
  #closed = false;

  constructor(options: { logger: Logger }) {
    this.#subs = new Subscriptions(options.logger.child({ mod: 'notifier' }));
  }

  async notify(channel: string, payload: string): Promise<void> {
    assertChannel(channel);
    assertPayload(payload);
    this.#assertOpen();
    queueMicrotask(() => {
      if (!this.#closed) this.#subs.dispatch(channel, payload);
    });
  }

  async listen(channel: string, handler: NotifyHandler): Promise<Unlisten> {
    assertChannel(channel);
    this.#assertOpen();
    const { subscription } = this.#subs.add(channel, handler);
    return async () => void this.#subs.remove(subscription);
  }

  onResync(handler: () => void): () => void {
    return this.#subs.onResync(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subs.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError('the notifier is closed');
  }
}
