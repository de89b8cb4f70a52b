import { AsyncResource } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../clock/index.ts';
import { SerialPass, waitOrTimeout } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import { OutboxRepository, type Database, type OutboxEvent, type SqlStore } from '../store/index.ts';
import { MAX_RESPONSE_BYTES, WebhookTransportError, type HttpPost, type WebhookResponse } from './http-post.ts';
import { parseWebhookReply, type WebhookReply } from './reply.ts';
import { DEFAULT_RETRY_POLICY, nextRetryDelayMs, type RetryPolicy } from './retry-policy.ts';
import { signWebhook, type WebhookPayload } from './signer.ts';

export interface WebhookTarget {
  url: string | null;
  secret: string;
  timeoutMs: number;
}

export interface WebhookDispatcherDeps {
  store: SqlStore<Database>;
  /** The outbox on the store's root executor (claims, retries: one statement each). */
  outbox: OutboxRepository;
  target(numberId: string): WebhookTarget | undefined | Promise<WebhookTarget | undefined>;
  post: HttpPost;
  clock: Clock;
  logger: Logger;
  /**
   * Sends an inline reply: writes it through `tx`, the transaction that marks the event delivered,
   * so a reply is recorded exactly when its event is. Only database work (no network, no
   * store.tx of its own). It must be idempotent per event id: if this node's lease ran out
   * mid-delivery, another node may deliver the event and reply too. What it returns is called
   * once the transaction has committed (to wake the sender: a wake-up inside the transaction
   * would look for the reply before it is visible).
   */
  onReply(event: OutboxEvent, reply: Extract<WebhookReply, { action: 'respond' }>, tx: Kysely<Database>): Promise<(() => void) | void>;
  policy?: RetryPolicy;
  random?: () => number;
  concurrency?: number;
  /** Longest sleep between looks at the outbox (rows written by other processes). */
  pollMs?: number;
  /**
   * The longest webhook timeout of any number: a claimed delivery's lease is that plus
   * LEASE_MARGIN_MS, so a live delivery is not taken twice and one a dead node left is retried by
   * another node soon after (default: the longest timeout the config allows).
   */
  longestTimeoutMs?: () => number;
}

export interface TestDelivery {
  url: string;
  status: number | null;
  durationMs: number;
  body: string;
  error: string | null;
}

const USER_AGENT = 'AgentPhone-Webhooks/1';
/** A delivery's lease beyond the longest webhook timeout: recording the answer and an inline reply. */
const LEASE_MARGIN_MS = 10_000;
/** The longest webhook timeout the config allows (numbers[].webhookTimeoutMs). */
const MAX_TIMEOUT_MS = 120_000;

/**
 * Delivers outbox events at least once, signed, with retries, then dead-letters them; events
 * for a number without a URL are held until one is set.
 */
export class WebhookDispatcher {
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly log: Logger;
  private running = false;
  private inFlight = 0;
  /** The look at the outbox under way; one at a time, so concurrent wake-ups never over-claim. */
  /** Looks at the outbox; a look already under way is followed by one more. */
  private readonly passes = new SerialPass(
    () => this.pumpOnce(),
    (err) => {
      // The store is unreachable (PostgreSQL down): try again at the next poll.
      this.log.error({ err }, 'looking for due webhook deliveries failed');
      this.schedule(this.pollMs);
    },
  );
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Numbers whose held events are being sent, one at a time. */
  private readonly draining = new Set<string>();
  /**
   * Runs a function in the async context the dispatcher was built in. notify() and releaseHeld()
   * may be called from inside another service's store.tx; the looks they start must not inherit
   * that transaction's context, where a query on the root executor is refused.
   */
  private readonly detached: (fn: () => void) => void = AsyncResource.bind((fn: () => void) => fn());

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.policy = deps.policy ?? DEFAULT_RETRY_POLICY;
    this.random = deps.random ?? Math.random;
    this.concurrency = deps.concurrency ?? 16;
    this.pollMs = deps.pollMs ?? 5000;
    this.log = deps.logger.child({ mod: 'webhooks' });
  }

  async start(): Promise<void> {
    // A SQLite store has one dispatcher: leases left by a crashed process are released at once.
    // On PostgreSQL other nodes' dispatchers hold live leases; a crashed node's run out (leaseMs).
    if (this.deps.store.dialect === 'sqlite') {
      const released = await this.deps.outbox.releaseLeases();
      if (released > 0) this.log.warn({ deliveries: released }, 'resuming deliveries interrupted by a restart');
    }
    this.running = true;
    this.pump();
    // URLs set while the gateway was down (config file, another process) release their events now.
    for (const numberId of await this.deps.outbox.heldNumberIds()) this.releaseHeld(numberId);
  }

  /**
   * Stops taking new events and waits (up to `graceMs`) for the ones in flight; an event cut
   * off here keeps its lease in the store and is delivered again after the next start (SQLite)
   * or once its lease runs out (PostgreSQL, by any node).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    // A claim under way still hands its events to deliver(); wait for it so they are counted.
    await this.passes.settled();
    if (this.inFlight > 0) await waitOrTimeout((resolve) => this.idleWaiters.push(resolve), graceMs);
  }

  /** A new event was written: look now instead of at the next poll. */
  notify(): void {
    if (this.running) this.detached(() => this.pump());
  }

  /**
   * The number's webhook URL was set: its held events go out oldest first, one at a time, so
   * the agent sees them in the order they happened. Does nothing while the number has no URL.
   */
  releaseHeld(numberId: string): void {
    // Marked draining before anything is awaited, so a second wake-up meanwhile sends nothing twice.
    if (!this.running || this.draining.has(numberId)) return;
    this.draining.add(numberId);
    this.inFlight++;
    this.detached(() => void this.drainHeld(numberId)
      .catch((err: unknown) => this.log.error({ err, numberId }, 'releasing held webhook events failed'))
      .finally(() => {
        this.draining.delete(numberId);
        this.settled();
      }));
  }

  private async drainHeld(numberId: string): Promise<void> {
    let released = 0;
    // Stops when the URL goes away again (deliver() holds the event once more) or at stop().
    while (this.running && (await this.deps.target(numberId))?.url) {
      const event = await this.deps.outbox.claimHeld(numberId, this.deps.clock.now(), this.leaseMs());
      if (!event) break;
      released++;
      await this.deliver(event);
    }
    if (released > 0) this.log.info({ numberId, deliveries: released }, 'held webhook events released');
  }

  /** Puts a delivered or dead event back in line. */
  async redeliver(id: string): Promise<boolean> {
    const ok = await this.deps.outbox.redeliver(id, this.deps.clock.now());
    if (ok) this.notify();
    return ok;
  }

  /** Sends a signed `webhook.test` event now, outside the outbox, and reports the answer. */
  async sendTest(numberId: string, to: string): Promise<TestDelivery> {
    const target = await this.deps.target(numberId);
    if (!target?.url) return { url: '', status: null, durationMs: 0, body: '', error: 'no webhook URL set for this number' };
    const payload: WebhookPayload = { event: 'webhook.test', to, timestamp: new Date(this.deps.clock.now()).toISOString() };
    const started = performance.now();
    try {
      const res = await this.send(target, payload, `test_${Date.now().toString(36)}`);
      return { url: target.url, status: res.status, durationMs: Math.round(performance.now() - started), body: res.text, error: null };
    } catch (err) {
      return { url: target.url, status: null, durationMs: Math.round(performance.now() - started), body: '', error: (err as Error).message };
    }
  }

  /** How long a claimed delivery is this node's: the longest webhook timeout plus a margin. */
  private leaseMs(): number {
    return Math.min(this.deps.longestTimeoutMs?.() ?? MAX_TIMEOUT_MS, MAX_TIMEOUT_MS) + LEASE_MARGIN_MS;
  }

  private pump(): void {
    this.passes.run();
  }

  private async pumpOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const free = this.concurrency - this.inFlight;
    if (free > 0) {
      const now = this.deps.clock.now();
      for (const event of await this.deps.outbox.claimDue(now, this.leaseMs(), free)) {
        this.inFlight++;
        void this.deliver(event)
          .catch((err: unknown) => this.log.error({ err, delivery: event.id }, 'recording a webhook delivery failed; it is retried when its lease runs out'))
          .finally(() => {
            this.settled();
            this.pump();
          });
      }
    }
    if (this.running && this.inFlight < this.concurrency) {
      const next = await this.deps.outbox.nextDueAt();
      this.schedule(next === undefined ? this.pollMs : Math.min(this.pollMs, Math.max(0, next - this.deps.clock.now())));
    }
  }

  private schedule(waitMs: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => this.pump(), Math.max(waitMs, 5));
    this.timer.unref();
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async deliver(event: OutboxEvent): Promise<void> {
    const log = this.log.child({ delivery: event.id, event: event.event, attempt: event.attempts });
    const target = await this.deps.target(event.numberId);
    if (!target?.url) {
      // Not a failure: it waits for a URL (releaseHeld), in the dashboard as `held`.
      await this.deps.outbox.hold(event.id);
      log.info('webhook held: no URL set');
      return;
    }
    let res: WebhookResponse;
    try {
      res = await this.send(target, JSON.parse(event.payload) as WebhookPayload, event.id);
    } catch (err) {
      await this.failed(event, undefined, undefined, (err as Error).message, log);
      return;
    }
    if (res.status < 200 || res.status >= 300) {
      await this.failed(event, res.status, res.retryAfterS, answerExcerpt(res), log);
      return;
    }
    const reply: WebhookReply =
      event.event !== 'message.inbound'
        ? { action: 'ignore' }
        : res.truncated
          ? { action: 'ignore', warning: `response body over ${MAX_RESPONSE_BYTES} bytes` }
          : parseWebhookReply(res.contentType, res.text);
    // "Delivered" and the reply's writes commit together or not at all. The reply runs under a
    // savepoint: a refused reply (opted-out contact, quota) rolls back only its own writes and the
    // event is still delivered, as the agent's endpoint did answer.
    if (reply.action !== 'respond') {
      await this.deps.outbox.markDelivered(event.id, res.status, this.deps.clock.now(), answerExcerpt(res));
      if (reply.warning) log.warn({ reason: reply.warning }, 'webhook answer treated as ignore');
      else log.debug({ status: res.status, action: reply.action }, 'webhook delivered');
      return;
    }
    const outcome = await this.deps.store.tx(async (tx): Promise<{ replyError?: string; afterCommit?: () => void }> => {
      await new OutboxRepository(tx).markDelivered(event.id, res.status, this.deps.clock.now(), answerExcerpt(res));
      await sql`savepoint inline_reply`.execute(tx);
      try {
        const afterCommit = await this.deps.onReply(event, reply, tx);
        await sql`release savepoint inline_reply`.execute(tx);
        return afterCommit ? { afterCommit } : {};
      } catch (err) {
        await sql`rollback to savepoint inline_reply`.execute(tx);
        return { replyError: (err as Error).message };
      }
    });
    outcome.afterCommit?.();
    if (outcome.replyError !== undefined) log.warn({ reason: outcome.replyError }, 'inline reply refused');
    else log.debug({ status: res.status, action: reply.action }, 'webhook delivered');
  }

  private async failed(event: OutboxEvent, status: number | undefined, retryAfterS: number | undefined, error: string, log: Logger): Promise<void> {
    const delay = nextRetryDelayMs(this.policy, event.attempts, { status, retryAfterS }, this.random());
    if (delay === null) {
      await this.deps.outbox.markDead(event.id, status ?? null, error);
      // The stored answer may quote the agent's body: the log gets only the status.
      log.warn({ status, error: status === undefined ? error : `HTTP ${status}` }, 'webhook dead-lettered after last attempt');
    } else {
      await this.deps.outbox.scheduleRetry(event.id, status ?? null, error, this.deps.clock.now() + delay);
      log.info({ status, error: status === undefined ? error : `HTTP ${status}`, retryInMs: delay }, 'webhook attempt failed');
    }
  }

  private send(target: WebhookTarget, payload: WebhookPayload, deliveryId: string): Promise<WebhookResponse> {
    const signed = signWebhook(payload, target.secret);
    return this.deps.post({
      url: target.url as string,
      body: signed.body,
      timeoutMs: target.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-agentphone-signature': signed.headerSignature,
        'x-agentphone-event': payload.event,
        'x-agentphone-delivery': deliveryId,
      },
    });
  }
}

export { WebhookTransportError };

/** Longest part of an endpoint's answer kept with the delivery (what `webhook deliveries` shows). */
export const ANSWER_EXCERPT_CHARS = 200;

/**
 * What an answer said, for the operator: `HTTP 503: busy, try later`, `HTTP 200: {"action":…`. The body is the
 * endpoint's and may hold anything: control characters (terminal escapes) become spaces,
 * whitespace runs collapse, and it is cut to ANSWER_EXCERPT_CHARS.
 */
export function answerExcerpt(res: Pick<WebhookResponse, 'status' | 'text'>): string {
  // eslint-disable-next-line no-control-regex
  const text = res.text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
  if (text === '') return `HTTP ${res.status}`;
  return `HTTP ${res.status}: ${text.length > ANSWER_EXCERPT_CHARS ? `${text.slice(0, ANSWER_EXCERPT_CHARS)}…` : text}`;
}
