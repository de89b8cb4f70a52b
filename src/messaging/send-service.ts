import { createHash, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiPrincipal } from '../auth/index.ts';
import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import { AgentPhoneError, ContactOptedOutError, UnavailableError, ValidationError } from '../errors/index.ts';
import { newMessageId } from '../ids/index.ts';
import type { UsageLedger } from '../metering/index.ts';
import type { NumberService } from '../numbers/index.ts';
import { encodeSubmit, segmentInfo, type SubmitPdu } from '../sms/index.ts';
import { GroupCommit, IdempotencyRepository, type MessagesRepository, type NumberRecord, type SqlStore } from '../store/index.ts';
import type { Database } from '../store/sql/database.ts';
import { parseMediaUrls, type MediaUrlLimits } from './media-urls.ts';
import { toE164 } from './phone.ts';
import type { Notifier, OptOutCheck } from './ports.ts';

/** The spec's send response. */
export interface SendResponse {
  messageId: string;
  status: 'queued';
  to: string;
  body: string;
}

export interface SendInput {
  to: unknown;
  body?: unknown;
  media?: unknown;
  /** Replace Unicode look-alikes so the text stays GSM-7 (fewer, cheaper segments). */
  smart?: boolean | undefined;
}

export interface SendServiceDeps {
  store: SqlStore<Database>;
  numbers: NumberService;
  /** The root repository: its change feed hears the sends (each is written on its transaction). */
  messages: MessagesRepository;
  ledger: UsageLedger;
  sms: Config['sms'];
  /** Count and length limits on a send's media URLs. */
  media: MediaUrlLimits;
  clock: Clock;
  dispatcher: Notifier;
  /** Whether the number's line can carry MMS (no line can until MMS is configured). */
  mmsEnabled?: (number: NumberRecord) => boolean;
  /** Inside the send transaction: puts an MMS (already written, channel mms) in line for its MMSC. */
  mmsQueue?: (tx: Kysely<Database>, messageId: string, lineId: string) => Promise<void>;
  /** Refuses sends to contacts who opted out of the number (compliance). */
  optOuts?: OptOutCheck;
  /** Records, on `tx`, an inline reply refused for an opt-out as failed, with its message.status event. */
  refused?: (tx: Kysely<Database>, messageId: string, error: { code: string; message: string }) => Promise<unknown>;
}

const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
/** With the u flag a well-formed pair is one code point, so this matches lone halves only. */
const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

interface QueueMeta {
  apiKeyId: string | null;
  replyTo: string | null;
  now: number;
  /** A compliance auto-answer (a STOP's confirmation, HELP's text): goes even to an opted-out contact. */
  compliance?: boolean;
}

/** Accepts outbound messages: validates, meters and queues them durably in one transaction. */
export class SendService {
  private nextReference = randomInt(256);

  private readonly commits: GroupCommit;

  constructor(private readonly deps: SendServiceDeps) {
    this.commits = new GroupCommit(deps.store);
  }

  /**
   * POST /api/numbers/:id/send/sms. Resolves once the message and its parts are committed;
   * sends arriving together share one commit.
   */
  async send(principal: ApiPrincipal, numberId: string, input: SendInput, idempotencyKey?: string): Promise<{ response: SendResponse; replayed: boolean }> {
    const number = this.deps.numbers.get(numberId, principal);
    const now = this.deps.clock.now();
    const requestHash = idempotencyKey === undefined ? '' : hashRequest(input);
    const result = await this.commits.run(async (tx) => {
      const idempotency = idempotencyKey === undefined ? undefined : new IdempotencyRepository(tx);
      if (idempotency && idempotencyKey !== undefined) {
        const seen = await idempotency.get(principal.keyId, numberId, idempotencyKey);
        if (seen && seen.createdAt > now - IDEMPOTENCY_WINDOW_MS) {
          if (seen.requestHash !== requestHash) {
            throw new ValidationError('Idempotency-Key: already used with a different request body in the last 24 hours');
          }
          return { response: JSON.parse(seen.response) as SendResponse, replayed: true };
        }
      }
      const response = await this.queue(tx, number, input, { apiKeyId: principal.keyId, replyTo: null, now });
      if (idempotency && idempotencyKey !== undefined) {
        const recorded = await idempotency.put(
          {
            apiKeyId: principal.keyId,
            numberId,
            key: idempotencyKey,
            requestHash,
            messageId: response.messageId,
            response: JSON.stringify(response),
            createdAt: now,
          },
          now - IDEMPOTENCY_WINDOW_MS,
        );
        // Another request with this key committed meanwhile (another node, or a batch before
        // this one): undo this send. The group commit runs the unit again, which then replays.
        if (!recorded) {
          throw new AgentPhoneError('IDEMPOTENCY_CONFLICT', 'Idempotency-Key: a request with this key was being processed at the same time; retry it', { status: 409, retryable: true });
        }
      }
      return { response, replayed: false };
    });
    if (!result.replayed) this.deps.dispatcher.notify(number.lineId ?? undefined);
    return result;
  }

  /**
   * An inline webhook reply: sent from the number to whoever wrote. Runs on the caller's
   * transaction `tx`; the unique reply_to makes it happen once per event.
   */
  async reply(tx: Kysely<Database>, eventId: string, numberId: string, to: string, text: string, media: string[]): Promise<void> {
    const messages = this.deps.messages.on(tx);
    if (await messages.getByReplyTo(eventId)) return;
    const number = this.deps.numbers.get(numberId);
    const now = this.deps.clock.now();
    try {
      await this.queue(tx, number, { to, body: text, media }, { apiKeyId: null, replyTo: eventId, now });
    } catch (err) {
      if (!(err instanceof ContactOptedOutError)) throw err;
      // Kept, failed and not metered, so the agent sees why its reply did not go (the
      // messages API and a message.status event), and a retry of the event stays a no-op.
      const id = await this.insertOutbound(tx, number, { to: err.contact, body: text, media, channel: media.length > 0 ? 'mms' : 'sms', encoding: null, segments: 0 }, { apiKeyId: null, replyTo: eventId, now });
      const error = { code: err.code, message: err.message };
      if (this.deps.refused) await this.deps.refused(tx, id, error);
      else await messages.setStatus(id, { status: 'failed', at: new Date(now).toISOString(), ...error });
      return;
    }
    // Told before the caller's commit: the dispatcher looks again shortly when it finds nothing yet.
    this.deps.dispatcher.notify(number.lineId ?? undefined);
  }

  /**
   * A compliance auto-answer from the number (STOP's confirmation, HELP's text), on the
   * caller's transaction `tx`: a normal metered SMS that skips the opt-out check.
   */
  async autoReply(tx: Kysely<Database>, number: NumberRecord, to: string, text: string): Promise<void> {
    await this.queue(tx, number, { to, body: text }, { apiKeyId: null, replyTo: null, now: this.deps.clock.now(), compliance: true });
    this.deps.dispatcher.notify(number.lineId ?? undefined);
  }

  private async queue(tx: Kysely<Database>, number: NumberRecord, input: SendInput, meta: QueueMeta): Promise<SendResponse> {
    const to = toE164(input.to, 'to');
    if (meta.compliance !== true) await this.deps.optOuts?.assertAllowed(tx, number, to);
    const body = input.body === undefined || input.body === null ? '' : input.body;
    if (typeof body !== 'string') throw new ValidationError('body: must be a string');
    // JSON can carry half a UTF-16 pair ("\ud83d"): a phone would get an invalid character and
    // the store U+FFFD in its place. API sends and inline replies both come through here.
    if (UNPAIRED_SURROGATE.test(body)) throw new ValidationError('body: contains an unpaired surrogate (half of a UTF-16 pair)');
    const media = parseMediaUrls(input.media, this.deps.media);
    if (media.length > 0 && !(this.deps.mmsEnabled?.(number) ?? false)) {
      throw new ValidationError("media: this number's line has no MMS configured, so it can send text only; remove media or configure MMS for the line");
    }
    if (body === '' && media.length === 0) throw new ValidationError('body: required (non-empty) unless media is given');
    if (number.lineId === null || number.status !== 'active') {
      throw new UnavailableError(`Number ${number.id} is not on any line right now (its SIM is not in a connected modem)`);
    }
    if (media.length > 0) return this.queueMms(tx, number, to, body, media, meta);
    const smart = input.smart === true;
    const info = this.segment(body, smart);
    const reference = this.nextReference;
    this.nextReference = (this.nextReference + 1) % 256;
    const pdus: SubmitPdu[] = encodeSubmit({
      to,
      text: body,
      smart,
      maxParts: this.deps.sms.maxParts,
      reference,
      requestStatusReport: this.deps.sms.requestStatusReport,
      ...(this.deps.sms.validityMinutes !== null && { validity: { minutes: this.deps.sms.validityMinutes } }),
    });
    await this.deps.ledger.on(tx).chargeOutbound(number, pdus.length, meta.now);
    const id = await this.insertOutbound(tx, number, { to, body, media, channel: 'sms', encoding: info.encoding, segments: pdus.length }, meta);
    // All the parts in one statement: the send path's round trips do not grow with the segments.
    await this.deps.messages
      .on(tx)
      .insertParts(pdus.map((pdu, i) => ({ messageId: id, seq: i + 1, pdu: pdu.hex, tpduLength: pdu.tpduLength, lineId: number.lineId as string, queuedAt: meta.now })));
    return { messageId: id, status: 'queued', to, body };
  }

  /** An MMS is one message to the MMSC, metered as one segment; its media are fetched when it is sent. */
  private async queueMms(tx: Kysely<Database>, number: NumberRecord, to: string, body: string, media: string[], meta: QueueMeta): Promise<SendResponse> {
    await this.deps.ledger.on(tx).chargeOutbound(number, 1, meta.now);
    const id = await this.insertOutbound(tx, number, { to, body, media, channel: 'mms', encoding: null, segments: 1 }, meta);
    await this.deps.mmsQueue?.(tx, id, number.lineId as string);
    return { messageId: id, status: 'queued', to, body };
  }

  private async insertOutbound(
    tx: Kysely<Database>,
    number: NumberRecord,
    m: { to: string; body: string; media: string[]; channel: 'sms' | 'mms'; encoding: string | null; segments: number },
    meta: QueueMeta,
  ): Promise<string> {
    const id = newMessageId(meta.now);
    await this.deps.messages.on(tx).insert({
      id,
      numberId: number.id,
      direction: 'outbound',
      channel: m.channel,
      contact: m.to,
      body: m.body,
      media: m.media,
      status: 'queued',
      encoding: m.encoding,
      segments: m.segments,
      replyTo: meta.replyTo,
      apiKeyId: meta.apiKeyId,
      createdAt: new Date(meta.now).toISOString(),
    });
    return id;
  }

  private segment(body: string, smart: boolean) {
    try {
      return segmentInfo(body, { smart, maxParts: this.deps.sms.maxParts });
    } catch (err) {
      if (err instanceof AgentPhoneError && err.status === 400) throw new ValidationError(`body: ${err.message}`);
      throw err;
    }
  }
}

function hashRequest(input: SendInput): string {
  return createHash('sha256').update(JSON.stringify([input.to, input.body ?? null, input.media ?? null, input.smart ?? null])).digest('hex');
}
