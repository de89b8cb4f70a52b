/**
 * MMS for the messaging domain: outbound MMS (fetch media → fit → m-send-req → m-send-conf,
 * then m-delivery-ind) and inbound MMS (WAP push → m-notification-ind → m-retrieve-conf →
 * media stored → message and its webhook event in one transaction).
 */
import { AsyncResource } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock/index.ts';
import { AgentPhoneError } from '../errors/index.ts';
import { newId, newMessageId } from '../ids/index.ts';
import { SerialPass } from '../lifecycle/index.ts';
import type { Logger } from '../logging/index.ts';
import type { Notifier } from '../messaging/index.ts';
import { OutboxRepository, type Database, type MessageStatus, type MessagesRepository, type NumberRecord, type SqlStore } from '../store/index.ts';
import type { InboundPayload, MmsUnfetchablePayload } from '../webhooks/index.ts';
import { composeSendReq, fromMmsAddress, readMessage } from './compose.ts';
import { fitMedia } from './media/fit-media.ts';
import type { MediaFetcher } from './media/media-fetcher.ts';
import type { MediaStore } from './media/media-store.ts';
import { MmsRepository, type InboundNotification, type OutboundMms, type RawPush, type UnfetchableNotification } from './mms-repository.ts';
import type { MmsTransport } from './mms-transport.ts';
import { decodeMmsPush, MmsError, responseStatusInfo, toDeliveryInd, toNotification, type MmsPdu, type NotificationInd } from './pdu/index.ts';

type Executor = Kysely<Database>;

/** The numbers the service reads, on the executor it is given (a transaction's, inside one). */
export interface MmsNumbers {
  getByLine(lineId: string): Promise<NumberRecord | undefined>;
}

/** Sets an MMS's status with the same events as an SMS's, on the caller's transaction; true when it wrote an event. */
export interface MmsStatusRecorder {
  record(tx: Executor, messageId: string, status: MessageStatus, error?: { code: string; message: string }): Promise<boolean>;
}

/** Meters a received MMS, on the transaction that stores it. */
export interface MmsInboundMeter {
  recordInbound(tx: Executor, numberId: string, segments: number, now: number): Promise<void>;
}

export interface MmsServiceDeps {
  /** Where the MMS tables live; each unit of work is one store.tx. */
  store: SqlStore<Database>;
  /** Built on the store's root executor; the service uses `messages.on(tx)` inside a transaction. */
  messages: MessagesRepository;
  /** The numbers lookup on an executor: the root one, or a transaction's. */
  numbers(db: Executor): MmsNumbers;
  ledger: MmsInboundMeter;
  tracker: MmsStatusRecorder;
  webhooks: Notifier;
  media: MediaStore;
  clock: Clock;
  logger: Logger;
  /** The line's MMS transport, or undefined when the line has no MMS configured. */
  transport(lineId: string): MmsTransport | undefined;
  /** Largest MMS the line's carrier takes, in bytes. */
  maxMessageBytes(lineId: string): number;
  readyLines(): string[];
  /** Fetches an outgoing message's media URLs (bounded in count, bytes and concurrency). */
  fetcher: MediaFetcher;
  maxAttempts?: number;
  retryDelaysMs?: readonly number[];
}

const MAX_IN_FLIGHT = 8;
/** Bytes the m-send-req headers, SMIL and part headers take besides the media. */
const ENVELOPE_BYTES = 2048;
/** A claimed notification is tried again after this long if its fetch never ends (a crash). */
const FETCH_CLAIM_MS = 60_000;
/**
 * The longest a pump waits, even with nothing due: work another node queued for this node's
 * lines (its API took the message), or a notify that ran before its transaction committed, is
 * found this late at worst. Also the retry delay after a pump failed (the database unreachable).
 */
const POLL_MS = 5_000;

export class MmsService implements Notifier {
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly delays: readonly number[];
  private readonly repo: MmsRepository;
  private running = false;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private drained: Array<() => void> = [];
  /** Passes over due work one at a time, so two cannot both fill the same free slots. */
  private readonly passes = new SerialPass(
    () => this.pumpOnce(),
    (err) => {
      this.log.error({ err }, 'MMS pump failed');
      this.schedule(POLL_MS);
    },
  );
  /**
   * The async context the service was built in. notify() is called inside other units'
   * transactions; a pump started there would be taken for part of that transaction (refused).
   */
  private readonly outside = new AsyncResource('MmsService');

  constructor(private readonly d: MmsServiceDeps) {
    this.log = d.logger.child({ mod: 'mms' });
    this.maxAttempts = d.maxAttempts ?? 5;
    this.delays = d.retryDelaysMs ?? [5_000, 30_000, 120_000, 600_000];
    this.repo = new MmsRepository(d.store.db);
  }

  /** Whether the line can carry MMS. */
  enabled(lineId: string): boolean {
    return this.d.transport(lineId) !== undefined;
  }

  /** Whether the line can fetch received MMS: an HTTP transport (the AT one only sends). */
  private canFetch(lineId: string): boolean {
    return this.d.transport(lineId)?.kind === 'http';
  }

  /**
   * Inside the send transaction (`tx`): the message (already written, channel mms) goes in line
   * for its MMSC. Without `tx` it is one statement of its own.
   */
  async queue(messageId: string, lineId: string, tx?: Executor): Promise<void> {
    await this.repoOn(tx).queueOutbound(messageId, lineId, randomBytes(12).toString('base64url'));
  }

  /** MMS sends of `lines` (undefined: all) left in flight by whoever drove them before go back in the queue. */
  async resume(lines?: readonly string[]): Promise<void> {
    const requeued = await this.repo.requeueInterrupted(lines);
    if (requeued > 0) {
      this.log.warn({ messages: requeued }, 'requeued MMS sends interrupted by a restart');
      this.notify();
    }
  }

  /** `lines`: on a cluster, this node's lines (only their interrupted sends are requeued); undefined: all. */
  async start(lines?: readonly string[]): Promise<void> {
    await this.resume(lines);
    const refetch = await this.repo.requeueUnfetchable((l) => this.canFetch(l));
    const now = this.d.clock.now();
    const told = await this.d.store.tx(async (tx) => {
      let wrote = false;
      for (const n of await new MmsRepository(tx).strandPending((l) => this.canFetch(l))) {
        if (await this.tellUnfetchable(tx, n.lineId, { messageSize: n.size ?? 0, expiry: undefined }, n.sender, now)) wrote = true;
      }
      return wrote;
    });
    if (told) this.d.webhooks.notify();
    if (refetch > 0) this.log.info({ notifications: refetch }, 'fetching MMS that arrived before MMS was configured');
    this.running = true;
    this.pump();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    // A pump under way may still hand out what it claimed; those sends end before stop does.
    await this.passes.settled();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /**
   * Something may be due: a pump runs soon, outside the caller's transaction. Called inside a
   * transaction, the pump waits for it on SQLite (one connection); on PostgreSQL it may run
   * before the commit and miss the row, which the next poll finds (POLL_MS), so callers should
   * rather notify after committing.
   */
  notify(): void {
    if (this.running) queueMicrotask(this.outside.bind(() => this.pump()));
  }

  /**
   * A reassembled WAP push from `lineId`, inside the receive transaction `tx` (its own when
   * none is given): a notification is recorded for fetching, a delivery report moves its
   * message on. Returns true when an outbox event was written.
   */
  async acceptPush(lineId: string, data: Uint8Array, tx?: Executor): Promise<boolean> {
    if (!tx) return this.d.store.tx((own) => this.acceptPush(lineId, data, own));
    const repo = new MmsRepository(tx);
    let pdu;
    try {
      pdu = decodeMmsPush(data).pdu;
    } catch (err) {
      if (!(err instanceof MmsError)) throw err;
      // Kept, never only dropped: the operator sees it (admin API) and can decode it later.
      await this.keepRawPush(lineId, 'undecodable', data, err, tx);
      return false;
    }
    if (pdu.type === 'm-notification-ind') {
      const n = toNotification(pdu);
      if (!n.contentLocation || !n.transactionId) {
        await this.keepRawPush(lineId, 'incomplete', data, undefined, tx);
        return false;
      }
      const now = this.d.clock.now();
      const sender = n.from === null ? null : fromMmsAddress(n.from);
      const fetchable = this.canFetch(lineId);
      const fresh = await repo.insertNotification({
        lineId,
        transactionId: n.transactionId,
        contentLocation: n.contentLocation,
        sender,
        size: n.messageSize,
        now,
        status: fetchable ? 'pending' : 'unfetchable',
      });
      // Runs after this microtask, by when the caller's transaction has usually committed; a
      // pump that misses the row finds it at its next turn (its due time is now).
      if (fresh && fetchable) this.notify();
      if (!fresh || fetchable) return false;
      return this.tellUnfetchable(tx, lineId, n, sender, now);
    }
    if (pdu.type === 'm-delivery-ind') {
      const report = toDeliveryInd(pdu);
      const out = await repo.outboundByMmsId(lineId, report.messageId);
      if (!out) return false;
      const delivered = report.status === 'retrieved' || report.status === 'forwarded';
      const final = delivered || report.status === 'expired' || report.status === 'rejected' || report.status === 'unreachable';
      if (!final) return false;
      const error = delivered ? undefined : { code: 'MMS_NOT_DELIVERED', message: `the MMSC reports the message ${report.status}` };
      await repo.setOutbound(out.messageId, { status: delivered ? 'delivered' : 'failed', ...(error && { code: error.code, message: error.message }) });
      return this.d.tracker.record(tx, out.messageId, delivered ? 'delivered' : 'failed', error);
    }
    this.log.info({ line: lineId, type: pdu.type }, 'ignoring an MMS push of a type not handled');
    return false;
  }

  /** For the operator: kept pushes and notifications nothing can fetch, newest first, with counts. */
  async inboundProblems(limit: number): Promise<{ rawPushes: { count: number; items: RawPush[] }; unfetchable: { count: number; items: UnfetchableNotification[] } }> {
    const [rawPushes, unfetchable] = await Promise.all([this.repo.rawPushes(limit), this.repo.unfetchable(limit)]);
    return { rawPushes, unfetchable };
  }

  /** Part of the receive transaction `tx` when given: the bytes go to mms_raw_pushes, the log says so without them. */
  async keepRawPush(lineId: string, reason: 'undecodable' | 'incomplete' | 'partial', data: Uint8Array, err?: MmsError, tx?: Executor): Promise<void> {
    await this.repoOn(tx).insertRawPush({ lineId, reason, code: err?.code ?? null, at: err?.offset ?? null, data, now: this.d.clock.now() });
    this.log.warn({ line: lineId, reason, code: err?.code, offset: err?.offset, bytes: data.length }, 'unusable WAP push kept (admin API: /admin/mms/inbound-problems)');
  }

  private repoOn(tx: Executor | undefined): MmsRepository {
    return tx ? new MmsRepository(tx) : this.repo;
  }

  /** An MMS nothing on this line can fetch: the agent gets mms.unfetchable (written on `tx`), the operator a warning. */
  private async tellUnfetchable(
    tx: Executor,
    lineId: string,
    n: Pick<NotificationInd, 'messageSize' | 'subject' | 'expiry'>,
    sender: string | null,
    now: number,
  ): Promise<boolean> {
    this.log.warn({ line: lineId, bytes: n.messageSize }, 'MMS arrived on a line that cannot fetch it (no MMS, or mms.transport at); it stays on the MMSC until the line gets an http MMS transport');
    const number = await this.d.numbers(tx).getByLine(lineId);
    if (!number) return false;
    const payload: MmsUnfetchablePayload = {
      event: 'mms.unfetchable',
      channel: 'mms',
      from: sender,
      to: number.phoneNumber,
      size: n.messageSize,
      subject: n.subject ?? null,
      expires_at: n.expiry === undefined ? null : 'absolute' in n.expiry ? n.expiry.absolute.toISOString() : new Date(now + n.expiry.relativeSeconds * 1000).toISOString(),
      reason: 'mms_not_configured',
      timestamp: new Date(now).toISOString(),
    };
    await new OutboxRepository(tx).insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: null, payload: JSON.stringify(payload), now });
    return true;
  }

  /** Starts a pass over due work unless one is under way, in which case that one runs again after. */
  private pump(): void {
    this.passes.run();
  }

  private async pumpOnce(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const lines = this.d.readyLines().filter((l) => this.enabled(l));
    let wait = POLL_MS;
    if (lines.length > 0) {
      const now = this.d.clock.now();
      const free = MAX_IN_FLIGHT - this.inFlight;
      if (free > 0) {
        // The claim and the messages' `sending` commit together; another node never gets the same rows.
        const claimed = await this.d.store.tx(async (tx) => {
          const rows = await new MmsRepository(tx).claimOutbound(now, lines, free);
          for (const r of rows) await this.d.tracker.record(tx, r.messageId, 'sending');
          return rows;
        });
        for (const row of claimed) this.run(() => this.send(row));
        // Claimed by pushing next_attempt_at out; a crash before the fetch ends retries it then.
        const due = await this.repo.claimNotifications(now, lines, free - claimed.length, now + FETCH_CLAIM_MS);
        for (const n of due) this.run(() => this.retrieve(n));
      }
      const [out, inbound] = await Promise.all([this.repo.nextOutboundDueAt(lines), this.repo.nextNotificationDueAt(lines)]);
      const next = Math.min(out ?? Infinity, inbound ?? Infinity);
      if (Number.isFinite(next)) wait = Math.min(wait, Math.max(5, next - this.d.clock.now()));
    }
    // At full capacity the next task to end pumps again.
    if (this.inFlight < MAX_IN_FLIGHT) this.schedule(wait);
  }

  private schedule(delayMs: number): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => this.pump(), delayMs);
    this.timer.unref();
  }

  private run(task: () => Promise<void>): void {
    this.inFlight++;
    task()
      .catch((err: unknown) => this.log.error({ err }, 'MMS task failed'))
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) for (const d of this.drained.splice(0)) d();
        this.pump();
      });
  }

  private async send(row: OutboundMms): Promise<void> {
    const message = await this.d.messages.get(row.messageId);
    const transport = this.d.transport(row.lineId);
    if (!message || !transport) return this.fail(row, 'MMS_NOT_CONFIGURED', "the message's line has no MMS configured", false);
    try {
      const fetched = await this.d.fetcher.fetchAll(message.media);
      let pdu: MmsPdu;
      try {
        const media = await fitMedia(fetched, this.d.maxMessageBytes(row.lineId), ENVELOPE_BYTES + Buffer.byteLength(message.body));
        pdu = composeSendReq({ to: [message.contact], text: message.body, media, transactionId: row.transactionId, deliveryReport: true });
      } finally {
        await this.d.fetcher.discard(fetched);
      }
      const conf = await transport.send(pdu);
      const status = responseStatusInfo(conf.responseStatus);
      if (!status.ok) return await this.fail(row, 'MMSC_REFUSED', `the MMSC refused the message: ${conf.responseText ?? status.description}`, status.retryable);
      const wrote = await this.d.store.tx(async (tx) => {
        await new MmsRepository(tx).setOutbound(row.messageId, { status: 'sent', mmsMessageId: conf.messageId ?? null });
        return this.d.tracker.record(tx, row.messageId, 'sent');
      });
      if (wrote) this.d.webhooks.notify();
    } catch (err) {
      if (err instanceof AgentPhoneError) return this.fail(row, err.code, err.message, err.retryable);
      // Not one of ours (a bug, a file system error): the message still ends, with an event,
      // instead of staying `sending` and being taken again at every restart.
      this.log.error({ err, messageId: row.messageId }, 'MMS send failed unexpectedly');
      return this.fail(row, 'MMS_FAILED', 'the MMS could not be sent (an internal error; the gateway log has the details)', false);
    }
  }

  private async fail(row: OutboundMms, code: string, message: string, retryable: boolean): Promise<void> {
    const retry = retryable && row.attempts < this.maxAttempts;
    const delay = this.delays[Math.min(row.attempts - 1, this.delays.length - 1)] ?? 0;
    const next = this.d.clock.now() + delay;
    const wrote = await this.d.store.tx(async (tx) => {
      const repo = new MmsRepository(tx);
      if (retry) {
        await repo.setOutbound(row.messageId, { status: 'queued', next, code, message });
        return false;
      }
      await repo.setOutbound(row.messageId, { status: 'failed', code, message });
      return this.d.tracker.record(tx, row.messageId, 'failed', { code, message });
    });
    if (retry) this.log.info({ messageId: row.messageId, code, retryInMs: delay }, 'MMS send failed, will retry');
    else this.log.warn({ messageId: row.messageId, code }, 'MMS send failed');
    if (wrote) this.d.webhooks.notify();
  }

  private async retrieve(n: InboundNotification): Promise<void> {
    const transport = this.d.transport(n.lineId);
    const number = await this.d.numbers(this.d.store.db).getByLine(n.lineId);
    if (!transport || !number) return;
    try {
      const pdu = await transport.retrieve(n.contentLocation);
      const content = readMessage(pdu);
      // Files first, outside the transaction: a rollback leaves at most a file no row points at.
      const rows = await Promise.all(content.media.map((m) => this.d.media.write(m.data, m.contentType, m.name ?? null)));
      const now = this.d.clock.now();
      const id = newMessageId();
      const from = content.from ?? n.sender ?? 'unknown';
      const wrote = await this.d.store.tx(async (tx) => {
        const media = await this.d.media.insert(rows, id, tx);
        const inserted = await this.d.messages.on(tx).insertInbound({
          id,
          numberId: number.id,
          channel: 'mms',
          contact: from,
          body: content.text,
          media: media.map((m) => m.url),
          encoding: null,
          segments: 1,
          partial: false,
          missingParts: [],
          dedupeKey: createHash('sha256').update(JSON.stringify(['mms', n.lineId, n.transactionId])).digest('hex'),
          createdAt: new Date(now).toISOString(),
        });
        await new MmsRepository(tx).setNotification(n.id, { status: 'done', attempts: n.attempts, messageId: id });
        if (!inserted) return false;
        await this.d.ledger.recordInbound(tx, number.id, 1, now);
        const payload: InboundPayload = {
          event: 'message.inbound',
          channel: 'mms',
          from,
          to: number.phoneNumber,
          body: content.text,
          media: media.map((m) => m.url),
          timestamp: (pdu.date ?? new Date(now)).toISOString(),
          message_id: id,
        };
        await new OutboxRepository(tx).insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: id, payload: JSON.stringify(payload), now });
        return true;
      });
      if (wrote) this.d.webhooks.notify();
      await transport.notifyResponse(n.transactionId, 'retrieved').catch((err: unknown) => this.log.warn({ err, line: n.lineId }, 'MMSC did not take the notify response'));
    } catch (err) {
      if (!(err instanceof AgentPhoneError)) throw err;
      const give = !err.retryable || n.attempts >= this.maxAttempts * 2;
      const delay = this.delays[Math.min(n.attempts - 1, this.delays.length - 1)] ?? 0;
      await this.repo.setNotification(n.id, { status: give ? 'failed' : 'pending', attempts: n.attempts, next: this.d.clock.now() + delay, error: `${err.code}: ${err.message}` });
      this.log.warn({ line: n.lineId, code: err.code, giveUp: give }, 'MMS retrieval failed');
    }
  }
}
