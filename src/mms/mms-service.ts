/**
 * MMS for the messaging domain: outbound MMS (fetch media → fit → m-send-req → m-send-conf,
 * then m-delivery-ind) and inbound MMS (WAP push → m-notification-ind → m-retrieve-conf →
 * media stored → message and its webhook event in one transaction).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock/index.ts';
import { AgentPhoneError } from '../errors/index.ts';
import { newId, newMessageId } from '../ids/index.ts';
import type { Logger } from '../logging/index.ts';
import type { MessageStatusTracker, Notifier } from '../messaging/index.ts';
import type { UsageLedger } from '../metering/index.ts';
import type { MessagesRepository, NumbersRepository, OutboxRepository } from '../store/index.ts';
import type { InboundPayload, MmsUnfetchablePayload } from '../webhooks/index.ts';
import { composeSendReq, fromMmsAddress, readMessage } from './compose.ts';
import { fitMedia } from './media/fit-media.ts';
import type { MediaFetcher } from './media/media-fetcher.ts';
import type { MediaStore } from './media/media-store.ts';
import type { InboundNotification, MmsRepository, OutboundMms, RawPush, UnfetchableNotification } from './mms-repository.ts';
import type { MmsTransport } from './mms-transport.ts';
import { decodeMmsPush, MmsError, responseStatusInfo, toDeliveryInd, toNotification, type MmsPdu, type NotificationInd } from './pdu/index.ts';

export interface MmsServiceDeps {
  repo: MmsRepository;
  messages: MessagesRepository;
  numbers: NumbersRepository;
  outbox: OutboxRepository;
  ledger: UsageLedger;
  tracker: MessageStatusTracker;
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

export class MmsService implements Notifier {
  private readonly log: Logger;
  private readonly maxAttempts: number;
  private readonly delays: readonly number[];
  private running = false;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private drained: Array<() => void> = [];

  constructor(private readonly d: MmsServiceDeps) {
    this.log = d.logger.child({ mod: 'mms' });
    this.maxAttempts = d.maxAttempts ?? 5;
    this.delays = d.retryDelaysMs ?? [5_000, 30_000, 120_000, 600_000];
  }

  /** Whether the line can carry MMS. */
  enabled(lineId: string): boolean {
    return this.d.transport(lineId) !== undefined;
  }

  /** Whether the line can fetch received MMS: an HTTP transport (the AT one only sends). */
  private canFetch(lineId: string): boolean {
    return this.d.transport(lineId)?.kind === 'http';
  }

  /** Inside the send transaction: the message (already written, channel mms) goes in line for its MMSC. */
  queue(messageId: string, lineId: string): void {
    this.d.repo.queueOutbound(messageId, lineId, randomBytes(12).toString('base64url'));
  }

  start(): void {
    const requeued = this.d.repo.requeueInterrupted();
    if (requeued > 0) this.log.warn({ messages: requeued }, 'requeued MMS sends interrupted by a restart');
    const refetch = this.d.repo.requeueUnfetchable((l) => this.canFetch(l));
    const stranded = this.d.repo.transaction(() =>
      this.d.repo.strandPending((l) => this.canFetch(l)).filter((n) => this.tellUnfetchable(n.lineId, { messageSize: n.size ?? 0, expiry: undefined }, n.sender, this.d.clock.now())),
    );
    if (stranded.length > 0) this.d.webhooks.notify();
    if (refetch > 0) this.log.info({ notifications: refetch }, 'fetching MMS that arrived before MMS was configured');
    this.running = true;
    this.pump();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  notify(): void {
    if (this.running) queueMicrotask(() => this.pump());
  }

  /**
   * A reassembled WAP push from `lineId`, inside the receive transaction: a notification is
   * recorded for fetching, a delivery report moves its message on. Returns true when an
   * outbox event was written.
   */
  acceptPush(lineId: string, data: Uint8Array): boolean {
    let pdu;
    try {
      pdu = decodeMmsPush(data).pdu;
    } catch (err) {
      if (!(err instanceof MmsError)) throw err;
      // Kept, never only dropped: the operator sees it (admin API) and can decode it later.
      this.keepRawPush(lineId, 'undecodable', data, err);
      return false;
    }
    if (pdu.type === 'm-notification-ind') {
      const n = toNotification(pdu);
      if (!n.contentLocation || !n.transactionId) {
        this.keepRawPush(lineId, 'incomplete', data);
        return false;
      }
      const now = this.d.clock.now();
      const sender = n.from === null ? null : fromMmsAddress(n.from);
      const fetchable = this.canFetch(lineId);
      const fresh = this.d.repo.insertNotification({
        lineId,
        transactionId: n.transactionId,
        contentLocation: n.contentLocation,
        sender,
        size: n.messageSize,
        now,
        status: fetchable ? 'pending' : 'unfetchable',
      });
      if (fresh && fetchable) this.notify();
      if (!fresh || fetchable) return false;
      return this.tellUnfetchable(lineId, n, sender, now);
    }
    if (pdu.type === 'm-delivery-ind') {
      const report = toDeliveryInd(pdu);
      const out = this.d.repo.outboundByMmsId(lineId, report.messageId);
      if (!out) return false;
      const delivered = report.status === 'retrieved' || report.status === 'forwarded';
      const final = delivered || report.status === 'expired' || report.status === 'rejected' || report.status === 'unreachable';
      if (!final) return false;
      this.d.repo.setOutbound(out.messageId, { status: delivered ? 'delivered' : 'failed', ...(!delivered && { code: 'MMS_NOT_DELIVERED', message: `the MMSC reports the message ${report.status}` }) });
      return this.d.tracker.record(out.messageId, delivered ? 'delivered' : 'failed', delivered ? undefined : { code: 'MMS_NOT_DELIVERED', message: `the MMSC reports the message ${report.status}` });
    }
    this.log.info({ line: lineId, type: pdu.type }, 'ignoring an MMS push of a type not handled');
    return false;
  }

  /** For the operator: kept pushes and notifications nothing can fetch, newest first, with counts. */
  inboundProblems(limit: number): { rawPushes: { count: number; items: RawPush[] }; unfetchable: { count: number; items: UnfetchableNotification[] } } {
    return { rawPushes: this.d.repo.rawPushes(limit), unfetchable: this.d.repo.unfetchable(limit) };
  }

  /** Part of the receive transaction: the bytes go to mms_raw_pushes, the log says so without them. */
  keepRawPush(lineId: string, reason: 'undecodable' | 'incomplete' | 'partial', data: Uint8Array, err?: MmsError): void {
    this.d.repo.insertRawPush({ lineId, reason, code: err?.code ?? null, at: err?.offset ?? null, data, now: this.d.clock.now() });
    this.log.warn({ line: lineId, reason, code: err?.code, offset: err?.offset, bytes: data.length }, 'unusable WAP push kept (admin API: /admin/mms/inbound-problems)');
  }

  /** An MMS nothing on this line can fetch: the agent gets mms.unfetchable, the operator a warning. */
  private tellUnfetchable(lineId: string, n: Pick<NotificationInd, 'messageSize' | 'subject' | 'expiry'>, sender: string | null, now: number): boolean {
    this.log.warn({ line: lineId, bytes: n.messageSize }, 'MMS arrived on a line that cannot fetch it (no MMS, or mms.transport at); it stays on the MMSC until the line gets an http MMS transport');
    const number = this.d.numbers.getByLine(lineId);
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
    this.d.outbox.insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: null, payload: JSON.stringify(payload), now });
    return true;
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const lines = this.d.readyLines().filter((l) => this.enabled(l));
    const now = this.d.clock.now();
    const free = MAX_IN_FLIGHT - this.inFlight;
    if (free > 0) {
      const claimed = this.d.repo.transaction(() => {
        const rows = this.d.repo.claimOutbound(now, lines, free);
        for (const r of rows) this.d.tracker.record(r.messageId, 'sending');
        return rows;
      });
      for (const row of claimed) this.run(() => this.send(row));
      const due = this.d.repo.dueNotifications(now, lines, Math.max(0, free - claimed.length));
      for (const n of due) {
        // Claimed by pushing next_attempt_at out; a crash before the fetch ends retries it then.
        this.d.repo.setNotification(n.id, { status: 'pending', attempts: n.attempts + 1, next: now + 60_000 });
        this.run(() => this.retrieve({ ...n, attempts: n.attempts + 1 }));
      }
    }
    const next = Math.min(this.d.repo.nextOutboundDueAt(lines) ?? Infinity, this.d.repo.nextNotificationDueAt(lines) ?? Infinity);
    if (Number.isFinite(next) && this.inFlight < MAX_IN_FLIGHT) {
      this.timer = setTimeout(() => this.pump(), Math.max(5, next - this.d.clock.now()));
      this.timer.unref();
    }
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
    const message = this.d.messages.get(row.messageId);
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
      if (!status.ok) return this.fail(row, 'MMSC_REFUSED', `the MMSC refused the message: ${conf.responseText ?? status.description}`, status.retryable);
      const wrote = this.d.repo.transaction(() => {
        this.d.repo.setOutbound(row.messageId, { status: 'sent', mmsMessageId: conf.messageId ?? null });
        return this.d.tracker.record(row.messageId, 'sent');
      });
      if (wrote) this.d.webhooks.notify();
    } catch (err) {
      if (err instanceof AgentPhoneError) return this.fail(row, err.code, err.message, err.retryable);
      // Not one of ours (a bug, a file system error): the message still ends, with an event,
      // instead of staying `sending` and being taken again at every restart.
      this.log.error({ err, messageId: row.messageId }, 'MMS send failed unexpectedly');
      this.fail(row, 'MMS_FAILED', 'the MMS could not be sent (an internal error; the gateway log has the details)', false);
    }
  }

  private fail(row: OutboundMms, code: string, message: string, retryable: boolean): void {
    const wrote = this.d.repo.transaction(() => {
      if (retryable && row.attempts < this.maxAttempts) {
        const delay = this.delays[Math.min(row.attempts - 1, this.delays.length - 1)] ?? 0;
        this.d.repo.setOutbound(row.messageId, { status: 'queued', next: this.d.clock.now() + delay, code, message });
        this.log.info({ messageId: row.messageId, code, retryInMs: delay }, 'MMS send failed, will retry');
        return false;
      }
      this.d.repo.setOutbound(row.messageId, { status: 'failed', code, message });
      this.log.warn({ messageId: row.messageId, code }, 'MMS send failed');
      return this.d.tracker.record(row.messageId, 'failed', { code, message });
    });
    if (wrote) this.d.webhooks.notify();
  }

  private async retrieve(n: InboundNotification): Promise<void> {
    const transport = this.d.transport(n.lineId);
    const number = this.d.numbers.getByLine(n.lineId);
    if (!transport || !number) return;
    try {
      const pdu = await transport.retrieve(n.contentLocation);
      const content = readMessage(pdu);
      const rows = await Promise.all(content.media.map((m) => this.d.media.write(m.data, m.contentType, m.name ?? null)));
      const now = this.d.clock.now();
      const id = newMessageId();
      const from = content.from ?? n.sender ?? 'unknown';
      const wrote = this.d.repo.transaction(() => {
        const media = this.d.media.insert(rows, id);
        const inserted = this.d.messages.insertInbound({
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
        this.d.repo.setNotification(n.id, { status: 'done', attempts: n.attempts, messageId: id });
        if (!inserted) return false;
        this.d.ledger.recordInbound(number.id, 1, now);
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
        this.d.outbox.insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: id, payload: JSON.stringify(payload), now });
        return true;
      });
      if (wrote) this.d.webhooks.notify();
      await transport.notifyResponse(n.transactionId, 'retrieved').catch((err: unknown) => this.log.warn({ err, line: n.lineId }, 'MMSC did not take the notify response'));
    } catch (err) {
      if (!(err instanceof AgentPhoneError)) throw err;
      const give = !err.retryable || n.attempts >= this.maxAttempts * 2;
      const delay = this.delays[Math.min(n.attempts - 1, this.delays.length - 1)] ?? 0;
      this.d.repo.setNotification(n.id, { status: give ? 'failed' : 'pending', attempts: n.attempts, next: this.d.clock.now() + delay, error: `${err.code}: ${err.message}` });
      this.log.warn({ line: n.lineId, code: err.code, giveUp: give }, 'MMS retrieval failed');
    }
  }
}
