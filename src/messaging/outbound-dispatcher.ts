import { AsyncResource } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock/index.ts';
import { AgentPhoneError } from '../errors/index.ts';
import { SerialPass, waitOrTimeout } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { DecodedStatusReport } from '../sms/index.ts';
import type { MessagesRepository, PartRecord, SqlStore } from '../store/index.ts';
import type { Database } from '../store/sql/database.ts';
import type { Notifier, SmsTransport } from './ports.ts';
import { DEFAULT_REPORT_WINDOW_MS, matchReport } from './report-matching.ts';
import type { MessageStatusTracker } from './status-events.ts';

/** The modem pool's code for "this line cannot take a PDU now". */
const LINE_UNAVAILABLE = 'MODEM_UNAVAILABLE';

/**
 * How long after a notify a line found empty is looked at once more before it is left idle: a
 * notify from inside a transaction (an inline reply) can come before that transaction commits,
 * and on PostgreSQL the claim does not see its parts until it has.
 */
const RECHECK_MS = 200;

export interface OutboundDispatcherDeps {
  store: SqlStore<Database>;
  /** The root repository (its change feed hears the status changes). */
  messages: MessagesRepository;
  transport: SmsTransport;
  tracker: MessageStatusTracker;
  /** Woken when a status event is written. */
  webhooks: Notifier;
  clock: Clock;
  logger: Logger;
  /** Attempts per part before it fails (default 5). */
  maxAttempts?: number;
  /** Delay after attempt n; the last entry repeats. */
  retryDelaysMs?: readonly number[];
  /** Parts handed to a line's paced send queue ahead of time (the rest wait in the store). */
  perLineInFlight?: number;
  /** How far a report's TP-SCTS may be from the sent time of its part (see matchReport). */
  reportWindowMs?: number;
  /** Where agentphone_sms_parts_resubmitted_after_restart_total is registered. */
  metrics?: Registry;
}

const RESUBMITTED_METRIC = 'agentphone_sms_parts_resubmitted_after_restart_total';

/**
 * Moves queued parts to their line's modem and records the outcome: sent with its TP-MR,
 * retried with backoff, or failed with the modem's error. Status reports then mark parts
 * delivered or failed. Every status change of a message is an outbox event.
 */
export class OutboundDispatcher implements Notifier {
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly delays: readonly number[];
  private readonly perLine: number;
  private readonly reportWindowMs: number;
  private readonly resubmitted: Counter | undefined;
  private readonly inFlightByLine = new Map<string, number>();
  private pumpScheduled = false;
  /** Lines whose queue was empty at the last look (no claim query until notified). */
  private readonly idleLines = new Set<string>();
  /** Lines notified since their last look: found empty, they get one more look (RECHECK_MS). */
  private readonly recheck = new Set<string>();
  /** One claim at a time; one asked for meanwhile runs after it. */
  private readonly passes = new SerialPass(
    () => this.pumpOnce(),
    (err) => {
      // The store failed (it is retried on the next notify or timer); the error is the operator's to see.
      this.log.error({ err }, 'claiming queued parts failed');
      this.later(1000);
    },
  );
  /**
   * The async context the dispatcher was built in. notify() is called inside other units'
   * transactions (an inline reply); a pump started in that context would be taken for part of
   * the transaction, and its own store.tx refused.
   */
  private readonly outside = new AsyncResource('OutboundDispatcher');
  private running = false;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private drained: Array<() => void> = [];

  constructor(private readonly deps: OutboundDispatcherDeps) {
    this.log = deps.logger.child({ mod: 'sms-out' });
    this.maxAttempts = deps.maxAttempts ?? 5;
    this.delays = deps.retryDelaysMs ?? [5_000, 30_000, 120_000, 600_000];
    this.perLine = deps.perLineInFlight ?? 4;
    this.reportWindowMs = deps.reportWindowMs ?? DEFAULT_REPORT_WINDOW_MS;
    const metrics = deps.metrics;
    this.resubmitted =
      metrics &&
      ((metrics.getSingleMetric(RESUBMITTED_METRIC) as Counter | undefined) ??
        new Counter({
          name: RESUBMITTED_METRIC,
          help: 'SMS parts sent again after a restart interrupted their AT+CMGS (the recipient may have them twice)',
          registers: [metrics],
        }));
  }

  /**
   * Requeues what a stopped process left in flight (every line's, or on a cluster only `lines`,
   * this node's), then sends.
   */
  async start(lines?: readonly string[]): Promise<void> {
    await this.resume(lines);
    this.running = true;
    this.pump();
  }

  /**
   * Parts of `lines` (undefined: every line) left in flight by whoever drove them before go back
   * in the queue: at start, and when this node takes over a line whose holder died.
   */
  async resume(lines?: readonly string[]): Promise<void> {
    const { requeued, resubmitted } = await this.deps.messages.requeueInterrupted(lines);
    if (requeued > 0) this.log.warn({ parts: requeued }, 'requeued parts interrupted by a restart');
    if (resubmitted > 0) {
      // An AT modem keeps no record of what it accepted: whether the interrupted AT+CMGS went out
      // cannot be known, so these are sent again (at least once) rather than perhaps never.
      this.resubmitted?.inc(resubmitted);
      this.log.warn({ parts: resubmitted }, 'resending parts whose submission a restart interrupted; they may arrive twice');
    }
    if (this.running) this.pump();
  }

  /**
   * Stops claiming and waits (up to `graceMs`) for parts in flight to be recorded. Parts still
   * in flight after that stay 'sending' or 'submitting' in the store and are requeued at the
   * next start (the 'submitting' ones counted as resubmitted).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.inFlight > 0) await waitOrTimeout((resolve) => this.drained.push(resolve), graceMs);
  }

  /**
   * New parts were queued (for `lineId`, or anywhere): look at the store once this turn of
   * the event loop is over.
   */
  notify(lineId?: string): void {
    if (lineId === undefined) {
      for (const line of this.idleLines) this.recheck.add(line);
      this.idleLines.clear();
    } else {
      this.idleLines.delete(lineId);
      this.recheck.add(lineId);
    }
    if (!this.running || this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.outside.runInAsyncScope(() =>
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      }),
    );
  }

  /**
   * A status report from `lineId`: find its part by line, TP-MR, recipient and time (see
   * matchReport) among those still waiting for one, and record the outcome.
   */
  async onStatusReport(lineId: string, report: DecodedStatusReport): Promise<void> {
    // Still trying: the final report comes later and settles the part.
    if (report.status.outcome === 'pending') return;
    const match = matchReport(
      await this.deps.messages.awaitingReport(lineId, report.messageRef),
      { recipient: report.recipient.number, receivedAtMs: report.timestamp.epochMs },
      this.reportWindowMs,
    );
    if (!match) {
      this.log.info({ line: lineId, mr: report.messageRef }, 'status report for no known part');
      return;
    }
    if (!match.inWindow) this.log.info({ line: lineId, mr: report.messageRef }, 'status report outside the send time window; matched the nearest part');
    const part = match.part;
    const delivered = report.status.outcome === 'delivered';
    const wrote = await this.deps.store.tx(async (tx) => {
      await this.deps.messages.on(tx).recordReport({
        messageId: part.messageId,
        seq: part.seq,
        status: delivered ? 'delivered' : 'failed',
        raw: report.status.raw,
        at: new Date(this.deps.clock.now()).toISOString(),
        code: delivered ? null : `TP-ST ${report.status.raw}`,
        message: delivered ? null : report.status.description,
      });
      return this.deps.tracker.refresh(tx, part.messageId);
    });
    if (wrote) this.deps.webhooks.notify();
  }

  /** Claims due parts for the ready lines and hands them out; one pump at a time. */
  private pump(): void {
    this.passes.run();
  }

  private async pumpOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const now = this.deps.clock.now();
    const waiting: string[] = [];
    for (const lineId of this.deps.transport.readyLines()) {
      const free = this.perLine - (this.inFlightByLine.get(lineId) ?? 0);
      if (free <= 0 || this.idleLines.has(lineId)) continue;
      const claimed = await this.deps.store.tx(async (tx) => {
        const parts = await this.deps.messages.on(tx).claimDueParts(lineId, now, free);
        for (const id of new Set(parts.map((p) => p.messageId))) await this.deps.tracker.refresh(tx, id);
        return parts;
      });
      for (const part of claimed) this.dispatch(part);
      if (claimed.length < free) waiting.push(lineId);
      if (claimed.length > 0) this.recheck.delete(lineId);
    }
    // Lines with room whose next parts are not due yet (retries): look again when they are.
    const next = waiting.length > 0 ? await this.deps.messages.nextPartDueAt(waiting) : undefined;
    if (next !== undefined) {
      this.later(Math.max(5, next - now));
      return;
    }
    // Nothing queued on them at all: skip these lines until a send names them again, after one
    // more look at those just notified (their parts may not have been committed yet).
    let again = false;
    for (const lineId of waiting) {
      if (this.recheck.delete(lineId)) again = true;
      else this.idleLines.add(lineId);
    }
    if (again) this.later(RECHECK_MS);
  }

  private later(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), ms);
    this.timer.unref();
  }

  private dispatch(part: PartRecord): void {
    const lineId = part.lineId as string;
    this.inFlight++;
    this.inFlightByLine.set(lineId, (this.inFlightByLine.get(lineId) ?? 0) + 1);
    this.deps.transport
      .sendPdu(lineId, { hex: part.pdu, tpduLength: part.tpduLength }, { onSubmitting: () => this.deps.messages.markPartSubmitting(part.messageId, part.seq) })
      .then(
        ({ messageRef }) => this.settle(part, (tx) => this.deps.messages.on(tx).markPartSent(part.messageId, part.seq, messageRef, this.iso())),
        async (err: unknown) => {
          let requeued = false;
          await this.settle(part, async (tx) => {
            requeued = await this.failed(tx, part, err);
          });
          // Back in line: the line may have been left idle while the part was out; look again.
          if (requeued) this.idleLines.delete(lineId);
        },
      )
      .catch((err: unknown) => {
        // Recording the outcome failed: the part stays 'sending' (or 'submitting') and is requeued at the next start.
        this.log.error({ err, messageId: part.messageId, seq: part.seq }, 'failed to record the outcome of a part');
      })
      .finally(() => {
        this.inFlight--;
        this.inFlightByLine.set(lineId, (this.inFlightByLine.get(lineId) ?? 1) - 1);
        if (this.inFlight === 0) for (const d of this.drained.splice(0)) d();
        this.pump();
      });
  }

  private async settle(part: PartRecord, change: (tx: Kysely<Database>) => Promise<void>): Promise<void> {
    const wrote = await this.deps.store.tx(async (tx) => {
      await change(tx);
      return this.deps.tracker.refresh(tx, part.messageId);
    });
    if (wrote) this.deps.webhooks.notify();
  }

  /** Records a failed send; true when the part went back in line (deferred or to be retried). */
  private async failed(tx: Kysely<Database>, part: PartRecord, err: unknown): Promise<boolean> {
    const messages = this.deps.messages.on(tx);
    const known = err instanceof AgentPhoneError;
    const code = known ? err.code : 'SEND_FAILED';
    const message = err instanceof Error ? err.message : String(err);
    const retryable = known ? err.retryable : true;
    if (code === LINE_UNAVAILABLE) {
      // Not an attempt: the line went down between the claim and the send. It waits for the line.
      await messages.deferPart(part.messageId, part.seq, this.deps.clock.now() + 1000);
      return true;
    }
    if (retryable && part.attempts < this.maxAttempts) {
      const delay = this.delays[Math.min(part.attempts - 1, this.delays.length - 1)] ?? 0;
      await messages.retryPart(part.messageId, part.seq, this.deps.clock.now() + delay, code, message);
      this.log.info({ messageId: part.messageId, seq: part.seq, code, retryInMs: delay }, 'part send failed, will retry');
      return true;
    }
    await messages.failPart(part.messageId, part.seq, code, message);
    this.log.warn({ messageId: part.messageId, seq: part.seq, code }, 'part failed');
    return false;
  }

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
