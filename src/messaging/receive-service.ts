import type { Kysely } from 'kysely';
import type { Clock } from '../clock/index.ts';
import { newMessageId, newId } from '../ids/index.ts';
import type { Logger } from '../logging/index.ts';
import type { UsageLedger } from '../metering/index.ts';
import { decodePdu, inboundPart, PduError, type DecodedPdu, type Reassembler, type ReassembledMessage } from '../sms/index.ts';
import { OutboxRepository, type MessagesRepository, type NumberRecord, type NumbersRepository } from '../store/index.ts';
import type { Database } from '../store/sql/database.ts';
import type { InboundPayload } from '../webhooks/index.ts';
import type { Notifier } from './ports.ts';
import { inboundData } from './views.ts';

/** A PDU a line received, as the modem pool hands it over. */
export interface ReceivedPdu {
  lineId: string;
  pdu: string;
  /** 27.005 stored-message status when read from storage (tells direction); undefined for +CMT. */
  stat?: number | undefined;
  /** Deletes it from the modem; called only once it is durably stored. */
  confirm(): Promise<void>;
}

export interface ReceiveServiceDeps {
  /** The root repository: its change feed hears received messages (each written on the reassembly transaction). */
  messages: MessagesRepository;
  numbers: NumbersRepository;
  ledger: UsageLedger;
  /** Hands a completed set over with its transaction's executor, on which the message is written. */
  reassembler: Reassembler<Kysely<Database>>;
  clock: Clock;
  logger: Logger;
  webhooks: Notifier;
  /** Records a status report; resolves once it is committed (the modem's copy is deleted then). */
  onStatusReport(lineId: string, report: Extract<DecodedPdu, { type: 'status-report' }>): Promise<void>;
  /**
   * A whole WAP push (port 2948, concatenated parts joined) from the line, called with the
   * reassembly transaction; resolves true when it wrote an outbox event. Without it, pushes
   * stay on the modem.
   */
  onWapPush?: (tx: Kysely<Database>, lineId: string, data: Uint8Array) => Promise<boolean>;
  /**
   * On the transaction that stored a text message and its event: opt-out keywords
   * (compliance) act here, so the opt-out is committed before the webhook sees the message.
   */
  onInboundText?: (tx: Kysely<Database>, number: NumberRecord, contact: string, body: string, messageId: string) => Promise<unknown>;
}

const WAP_PUSH_PORT = 2948;

/**
 * Receiving: decode → persist the part (reassembly) → confirm to the modem → when the set is
 * complete, one transaction writes the message, its usage and its `message.inbound` event.
 */
export class ReceiveService {
  private readonly log: Logger;

  constructor(private readonly deps: ReceiveServiceDeps) {
    this.log = deps.logger.child({ mod: 'sms-in' });
  }

  async receive(received: ReceivedPdu): Promise<void> {
    const log = this.log.child({ line: received.lineId });
    let decoded: DecodedPdu;
    try {
      decoded = decodePdu(received.pdu, { hasSmsc: true, ...(received.stat !== undefined && { direction: received.stat <= 1 ? 'incoming' : 'outgoing' }) });
    } catch (err) {
      if (!(err instanceof PduError)) throw err;
      // Kept in the store as received (`agentphone pdu decode` reads it), then deleted: left on
      // the modem it held a storage slot for good and was read again after every reconnect.
      const kept = await this.deps.messages.recordUndecodable({
        lineId: received.lineId,
        pdu: received.pdu,
        errorCode: err.code,
        errorOffset: err.offset,
        reason: err.reason,
        receivedAt: new Date(this.deps.clock.now()).toISOString(),
      });
      log.warn({ code: err.code, offset: err.offset, kept }, 'undecodable PDU kept in sms_undecodable and deleted from the modem');
      await received.confirm();
      return;
    }
    if (decoded.type === 'status-report') {
      await this.deps.onStatusReport(received.lineId, decoded);
      await received.confirm();
      return;
    }
    if (decoded.type !== 'deliver') {
      log.info({ type: decoded.type }, 'ignoring a stored PDU that is not a received message');
      return;
    }
    const onWapPush = this.deps.onWapPush;
    if (decoded.ports?.destination === WAP_PUSH_PORT) {
      if (!onWapPush) {
        log.info({ port: WAP_PUSH_PORT }, 'WAP push left on the modem (no MMS handler)');
        return;
      }
      let wrote = false;
      await this.deps.reassembler.accept(inboundPart(received.lineId, decoded, received.pdu), async (message, tx) => {
        // A push with parts missing cannot be decoded; the MMSC resends notifications it sees unanswered.
        if (!message.partial && message.data) wrote = await onWapPush(tx, received.lineId, message.data);
      });
      await received.confirm();
      if (wrote) this.deps.webhooks.notify();
      return;
    }
    const number = await this.deps.numbers.getByLine(received.lineId);
    if (!number) {
      log.warn('message for a line with no number; left on the modem');
      return;
    }
    let wrote = false;
    await this.deps.reassembler.accept(inboundPart(received.lineId, decoded, received.pdu), async (message, tx) => {
      wrote = await this.store(tx, number, message);
    });
    // Committed: the webhook can go now, while the modem deletes its copy.
    if (wrote) this.deps.webhooks.notify();
    await received.confirm();
  }

  /** Delivers, flagged partial, sets whose missing parts never came; returns how many. */
  async expireIncomplete(): Promise<number> {
    // Read before the transactions: a number looked up inside one would go to the root executor.
    const byLine = new Map<string, NumberRecord>();
    for (const n of await this.deps.numbers.list()) if (n.lineId !== null) byLine.set(n.lineId, n);
    let wrote = 0;
    await this.deps.reassembler.expire(async (message, tx) => {
      const number = byLine.get(message.line);
      if (number && (await this.store(tx, number, message))) wrote++;
    });
    if (wrote > 0) this.deps.webhooks.notify();
    return wrote;
  }

  /** On the reassembly transaction: the message, its usage and its event, or nothing. */
  private async store(tx: Kysely<Database>, number: NumberRecord, message: ReassembledMessage): Promise<boolean> {
    const numberId = number.id;
    const now = this.deps.clock.now();
    const id = newMessageId(now);
    const body = message.text;
    const data = inboundData(message);
    const timestamp = message.sentAt === null ? new Date(now).toISOString() : new Date(message.sentAt).toISOString();
    const inserted = await this.deps.messages.on(tx).insertInbound({
      id,
      numberId,
      channel: 'sms',
      contact: message.originator,
      body,
      media: [],
      encoding: message.encoding,
      segments: message.receivedParts,
      partial: message.partial,
      missingParts: [...message.missingParts],
      // The same message read twice (a restart before the modem deleted it) is stored once.
      dedupeKey: message.fingerprint,
      data: message.data,
      ports: message.ports,
      createdAt: new Date(now).toISOString(),
    });
    if (!inserted) return false;
    await this.deps.ledger.on(tx).recordInbound(numberId, message.receivedParts, now);
    const payload: InboundPayload = {
      event: 'message.inbound',
      channel: 'sms',
      from: message.originator,
      to: number.phoneNumber,
      body,
      media: [],
      timestamp,
      message_id: id,
      ...(data && { data }),
    };
    await new OutboxRepository(tx).insert({ id: newId('evt'), numberId, event: payload.event, messageId: id, payload: JSON.stringify(payload), now });
    if (!data && !message.partial) await this.deps.onInboundText?.(tx, number, message.originator, body, id);
    return true;
  }
}
