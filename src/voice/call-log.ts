import type { Kysely } from 'kysely';
import type { Clock } from '../clock/index.ts';
import { newId } from '../ids/index.ts';
import { ledgerMonth, USAGE_KINDS, type UsageLedger } from '../metering/index.ts';
import { CallsRepository, OutboxRepository, UsageRepository, type CallRecord, type CallStatus, type Database, type NumberRecord, type SqlStore } from '../store/index.ts';
import type { CallPayload } from '../webhooks/index.ts';

export interface CallEnd {
  status: Extract<CallStatus, 'completed' | 'failed' | 'canceled' | 'refused'>;
  reason: string;
  sipStatus?: number | null;
  errorMessage?: string | null;
}

export interface CallLogDeps {
  store: SqlStore<Database>;
  /** The month's usage, read (outside any transaction) to decide whether a call may start. */
  ledger: UsageLedger;
  clock: Clock;
  included: number;
  notify: () => void;
}

/**
 * The durable side of calls: each state change and the webhook event it causes are written in
 * one transaction (the outbox rule), and minutes are metered in the same transaction that ends
 * the call, rounded up per call. Calls are on the real-time path: each transaction here does
 * database work only, and the webhook dispatcher is woken after it commits.
 */
export class CallLog {
  /** Reads and single-statement changes, outside any transaction. */
  private readonly calls: CallsRepository;

  constructor(private readonly deps: CallLogDeps) {
    this.calls = new CallsRepository(deps.store.db);
  }

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private async event(tx: Kysely<Database>, number: NumberRecord, payload: CallPayload): Promise<void> {
    await new OutboxRepository(tx).insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: null, payload: JSON.stringify(payload), now: this.deps.clock.now() });
  }

  private base(number: NumberRecord, call: CallRecord) {
    const inbound = call.direction === 'inbound';
    return { call_id: call.id, direction: call.direction, from: inbound ? call.contact : number.phoneNumber, to: inbound ? number.phoneNumber : call.contact };
  }

  /** Records the call (on `nodeId`; null: queued for any voice node); an inbound one with its call.inbound event, in the same transaction. */
  async create(
    number: NumberRecord,
    c: { direction: CallRecord['direction']; contact: string; sipCallId?: string; greeting?: string | null; instructions?: string | null; apiKeyId?: string | null; nodeId: string | null },
  ): Promise<CallRecord> {
    const record = await this.deps.store.tx(async (tx) => {
      const call = await new CallsRepository(tx).insert({
        id: newId('call'),
        numberId: number.id,
        direction: c.direction,
        contact: c.contact,
        status: c.direction === 'inbound' ? 'ringing' : 'queued',
        sipCallId: c.sipCallId ?? null,
        greeting: c.greeting ?? null,
        instructions: c.instructions ?? null,
        apiKeyId: c.apiKeyId ?? null,
        createdAt: this.iso(),
        nodeId: c.nodeId,
      });
      if (c.direction === 'inbound') await this.event(tx, number, { event: 'call.inbound', ...this.base(number, call), timestamp: call.createdAt });
      return call;
    });
    this.deps.notify();
    return record;
  }

  /** A live call rings (an ended one stays as it ended); its status and SIP call id change together. */
  async ringing(callId: string, sipCallId: string | null): Promise<void> {
    if (!sipCallId) {
      await this.calls.setStatus(callId, 'ringing');
      return;
    }
    await this.deps.store.tx(async (tx) => {
      const calls = new CallsRepository(tx);
      if (await calls.setStatus(callId, 'ringing')) await calls.setSipCallId(callId, sipCallId);
    });
  }

  /** Marks the call answered with its call.answered event; false when it had already ended. */
  async answered(number: NumberRecord, callId: string): Promise<boolean> {
    const changed = await this.deps.store.tx(async (tx) => {
      const calls = new CallsRepository(tx);
      const at = this.iso();
      if (!(await calls.markAnswered(callId, at))) return false;
      const call = (await calls.get(callId)) as CallRecord;
      await this.event(tx, number, { event: 'call.answered', ...this.base(number, call), timestamp: at });
      return true;
    });
    if (changed) this.deps.notify();
    return changed;
  }

  /** Stores a turn's transcript with the call and counts it, together (a turn after the hangup is dropped). */
  async turn(callId: string, t: { transcript: string; dtmf: string | null; action: string; reply: string | null }): Promise<void> {
    const createdAt = this.iso();
    await this.deps.store.tx((tx) => new CallsRepository(tx).addTurn(callId, { callerText: t.transcript, dtmf: t.dtmf, action: t.action, agentReply: t.reply, createdAt }));
  }

  /** The caller talked over the latest reply, having heard this share of it. */
  async bargeIn(callId: string, heardFraction: number): Promise<void> {
    await this.calls.setHeardFraction(callId, heardFraction);
  }

  /**
   * Ends the call once (later calls are no-ops); returns the final record. The end, its minutes
   * in the ledger and its call.completed / call.failed event are one transaction; the call's row
   * is locked first, so an answer racing the end on another connection cannot slip in between
   * the read that prices the call and the write that ends it.
   */
  async end(number: NumberRecord, callId: string, e: CallEnd): Promise<CallRecord | undefined> {
    const result = await this.deps.store.tx(async (tx) => {
      const calls = new CallsRepository(tx);
      const call = await calls.lockLive(callId);
      if (!call) return undefined;
      const now = this.deps.clock.now();
      const durationMs = call.answeredAt ? Math.max(0, now - Date.parse(call.answeredAt)) : null;
      const billableMinutes = durationMs === null ? 0 : Math.ceil(durationMs / 60_000);
      const endedAt = new Date(now).toISOString();
      const changed = await calls.end({
        id: callId,
        status: e.status,
        endReason: e.reason,
        sipStatus: e.sipStatus ?? null,
        errorMessage: e.errorMessage ?? null,
        durationMs,
        billableMinutes,
        endedAt,
      });
      if (!changed) return undefined;
      // The ledger's own entry (UsageLedger.recordVoiceMinutes), on this transaction's executor.
      if (billableMinutes > 0) await new UsageRepository(tx).add(number.id, ledgerMonth(now), USAGE_KINDS.voiceMinutes, billableMinutes);
      const ended = (await calls.get(callId)) as CallRecord;
      if (ended.answeredAt) {
        await this.event(tx, number, {
          event: 'call.completed',
          ...this.base(number, ended),
          duration_seconds: Math.round((durationMs ?? 0) / 1000),
          billable_minutes: billableMinutes,
          end_reason: e.reason,
          timestamp: endedAt,
        });
      } else {
        await this.event(tx, number, { event: 'call.failed', ...this.base(number, ended), reason: e.reason, sip_status: e.sipStatus ?? null, timestamp: endedAt });
      }
      return ended;
    });
    if (result) this.deps.notify();
    return result;
  }

  /** Whether the number may start another call: minutes left, or overage on. */
  async mayCall(number: NumberRecord): Promise<boolean> {
    if (number.overageEnabled) return true;
    const report = await this.deps.ledger.report(number, ledgerMonth(this.deps.clock.now()));
    return report.voice.used < this.deps.included;
  }
}
