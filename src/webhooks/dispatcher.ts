import type { Clock } from '../clock/index.ts';
import { waitOrTimeout } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { Db, OutboxEvent, OutboxRepository } from '../store/index.ts';
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
  db: Db;
  outbox: OutboxRepository;
  target(numberId: string): WebhookTarget | undefined;
  post: HttpPost;
  clock: Clock;
  logger: Logger;
  /**
   * Sends an inline reply. Runs inside the transaction that marks the event delivered, so a
   * reply is recorded exactly when its event is; it must be idempotent per event id.
   */
  onReply(event: OutboxEvent, reply: Extract<WebhookReply, { action: 'respond' }>): void;
  policy?: RetryPolicy;
  random?: () => number;
  concurrency?: number;
  /** Longest sleep between looks at the outbox (rows written by other processes). */
  pollMs?: number;
}

export interface TestDelivery {
  url: string;
  status: number | null;
  durationMs: number;
  body: string;
  error: string | null;
}

const USER_AGENT = 'AgentPhone-Webhooks/1';
/** Longer than the longest webhook timeout, so a live delivery is never taken twice. */
const LEASE_MS = 130_000;

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
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Numbers whose held events are being sent, one at a time. */
  private readonly draining = new Set<string>();

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.policy = deps.policy ?? DEFAULT_RETRY_POLICY;
    this.random = deps.random ?? Math.random;
    this.concurrency = deps.concurrency ?? 16;
    this.pollMs = deps.pollMs ?? 5000;
    this.log = deps.logger.child({ mod: 'webhooks' });
  }

  start(): void {
    // One dispatcher per store: leases left by a crashed process are released at once.
    const released = this.deps.outbox.releaseLeases();
    if (released > 0) this.log.warn({ deliveries: released }, 'resuming deliveries interrupted by a restart');
    this.running = true;
    this.pump();
    // URLs set while the gateway was down (config file, another process) release their events now.
    for (const numberId of this.deps.outbox.heldNumberIds()) this.releaseHeld(numberId);
  }

  /**
   * Stops taking new events and waits (up to `graceMs`) for the ones in flight; an event cut
   * off here keeps its lease in the store and is delivered again after the next start.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.inFlight > 0) await waitOrTimeout((resolve) => this.idleWaiters.push(resolve), graceMs);
  }

  /** A new event was written: look now instead of at the next poll. */
  notify(): void {
    if (this.running) this.pump();
  }

  /**
   * The number's webhook URL was set: its held events go out oldest first, one at a time, so
   * the agent sees them in the order they happened. Does nothing while the number has no URL.
   */
  releaseHeld(numberId: string): void {
    if (!this.running || this.draining.has(numberId) || !this.deps.target(numberId)?.url) return;
    this.draining.add(numberId);
    this.inFlight++;
    void this.drainHeld(numberId).finally(() => {
      this.draining.delete(numberId);
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async drainHeld(numberId: string): Promise<void> {
    let released = 0;
    // Stops when the URL goes away again (deliver() holds the event once more) or at stop().
    while (this.running && this.deps.target(numberId)?.url) {
      const event = this.deps.outbox.claimHeld(numberId, this.deps.clock.now(), LEASE_MS);
      if (!event) break;
      released++;
      await this.deliver(event);
    }
    if (released > 0) this.log.info({ numberId, deliveries: released }, 'held webhook events released');
  }

  /** Puts a delivered or dead event back in line. */
  redeliver(id: string): boolean {
    const ok = this.deps.outbox.redeliver(id, this.deps.clock.now());
    if (ok) this.notify();
    return ok;
  }

  /** Sends a signed `webhook.test` event now, outside the outbox, and reports the answer. */
  async sendTest(numberId: string, to: string): Promise<TestDelivery> {
    const target = this.deps.target(numberId);
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

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const free = this.concurrency - this.inFlight;
    if (free > 0) {
      const now = this.deps.clock.now();
      for (const event of this.deps.outbox.claimDue(now, LEASE_MS, free)) {
        this.inFlight++;
        void this.deliver(event).finally(() => {
          this.inFlight--;
          if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
        });
      }
    }
    if (this.inFlight < this.concurrency) {
      const next = this.deps.outbox.nextDueAt();
      const wait = next === undefined ? this.pollMs : Math.min(this.pollMs, Math.max(0, next - this.deps.clock.now()));
      this.timer = setTimeout(() => this.pump(), Math.max(wait, 5));
      this.timer.unref();
    }
  }

  private async deliver(event: OutboxEvent): Promise<void> {
    const log = this.log.child({ delivery: event.id, event: event.event, attempt: event.attempts });
    const target = this.deps.target(event.numberId);
    if (!target?.url) {
      // Not a failure: it waits for a URL (releaseHeld), in the dashboard as `held`.
      this.deps.outbox.hold(event.id);
      log.info('webhook held: no URL set');
      return;
    }
    let res: WebhookResponse;
    try {
      res = await this.send(target, JSON.parse(event.payload) as WebhookPayload, event.id);
    } catch (err) {
      this.failed(event, undefined, undefined, (err as Error).message, log);
      return;
    }
    if (res.status < 200 || res.status >= 300) {
      this.failed(event, res.status, res.retryAfterS, answerExcerpt(res), log);
      return;
    }
    const reply: WebhookReply =
      event.event !== 'message.inbound'
        ? { action: 'ignore' }
        : res.truncated
          ? { action: 'ignore', warning: `response body over ${MAX_RESPONSE_BYTES} bytes` }
          : parseWebhookReply(res.contentType, res.text);
    let replyError: string | undefined;
    this.deps.db.transaction(() => {
      this.deps.outbox.markDelivered(event.id, res.status, this.deps.clock.now(), answerExcerpt(res));
      if (reply.action === 'respond') {
        try {
          this.deps.db.transaction(() => this.deps.onReply(event, reply))();
        } catch (err) {
          replyError = (err as Error).message;
        }
      }
    })();
    if (replyError !== undefined) log.warn({ reason: replyError }, 'inline reply refused');
    else if (reply.action === 'ignore' && reply.warning) log.warn({ reason: reply.warning }, 'webhook answer treated as ignore');
    else log.debug({ status: res.status, action: reply.action }, 'webhook delivered');
  }

  private failed(event: OutboxEvent, status: number | undefined, retryAfterS: number | undefined, error: string, log: Logger): void {
    const delay = nextRetryDelayMs(this.policy, event.attempts, { status, retryAfterS }, this.random());
    if (delay === null) {
      this.deps.outbox.markDead(event.id, status ?? null, error);
      // The stored answer may quote the agent's body: the log gets only the status.
      log.warn({ status, error: status === undefined ? error : `HTTP ${status}` }, 'webhook dead-lettered after last attempt');
    } else {
      this.deps.outbox.scheduleRetry(event.id, status ?? null, error, this.deps.clock.now() + delay);
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
