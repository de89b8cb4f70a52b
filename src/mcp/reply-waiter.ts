import { UnavailableError } from '../errors/index.ts';
import type { MessageRecord, MessagesRepository } from '../store/index.ts';
import type { MessageEvents } from './message-events.ts';

export interface ReplyWait {
  numberId: string;
  /** The contact, as stored (E.164 or an alphanumeric sender). */
  contact: string;
  /** Replies created at or after this ISO instant count. */
  since: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * Resolves with the first inbound message from `contact` to the number created at or after
 * `since`, or undefined when the timeout passes or the request is cancelled. It listens to the
 * message changes (this node's, and on a cluster every node's) without polling; a reply already
 * stored when it starts is found by one read made after it began listening, so none falls
 * between the two, and the read is made again when the cluster's bus lost notifications.
 */
export function waitForReply(events: MessageEvents, messages: MessagesRepository, wait: ReplyWait): Promise<MessageRecord | undefined> {
  return new Promise((resolve, reject) => {
    const matches = (m: MessageRecord) => m.direction === 'inbound' && m.numberId === wait.numberId && m.contact === wait.contact && m.createdAt >= wait.since;
    let done = false;
    const finish = (m: MessageRecord | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      wait.signal.removeEventListener('abort', onAbort);
      unsubscribe?.();
      resolve(m);
    };
    const onAbort = () => finish(undefined);
    const timer = setTimeout(() => finish(undefined), wait.timeoutMs);
    // Newest first: the earliest of the replies already stored is the one the agent waits for.
    const lookStored = () =>
      messages.list(wait.numberId, { direction: 'inbound', contact: wait.contact, since: wait.since, limit: 20 }).then(
        (stored) => {
          if (stored.length > 0) finish(stored[stored.length - 1]);
        },
        (err: unknown) => {
          if (done) return;
          finish(undefined);
          reject(err);
        },
      );
    const unsubscribe = events.subscribe(
      (m) => {
        if (matches(m)) finish(m);
      },
      // Changes may have been missed (a cluster's bus lost notifications): look in the store again.
      () => {
        if (!done) void lookStored();
      },
    );
    if (!unsubscribe) {
      done = true;
      clearTimeout(timer);
      throw new UnavailableError('Too many waits are open on this gateway; try again shortly');
    }
    if (wait.signal.aborted) return finish(undefined);
    wait.signal.addEventListener('abort', onAbort, { once: true });
    void lookStored();
  });
}
