import type { Clock } from '../clock/index.ts';
import { newId } from '../ids/index.ts';
import { ledgerMonth, type UsageLedger } from '../metering/index.ts';
import type { CallRecord, CallStatus, CallsRepository, Db, NumberRecord, OutboxRepository } from '../store/index.ts';
import type { CallPayload } from '../webhooks/index.ts';

export interface CallEnd {
  status: Extract<CallStatus, 'completed' | 'failed' | 'canceled' | 'refused'>;
  reason: string;
  sipStatus?: number | null;
  errorMessage?: string | null;
}

/**
 * The durable side of calls: each state change and the webhook event it causes are written in
 * one transaction (the outbox rule), and minutes are metered in the same transaction that ends
 * the call, rounded up per call.
 */
export class CallLog {
  constructor(
    private readonly deps: {
      db: Db;
      calls: CallsRepository;
      outbox: OutboxRepository;
      ledger: UsageLedger;
      clock: Clock;
      included: number;
      notify: () => void;
    },
  ) {}

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private event(number: NumberRecord, call: CallRecord, payload: CallPayload): void {
    this.deps.outbox.insert({ id: newId('evt'), numberId: number.id, event: payload.event, messageId: null, payload: JSON.stringify(payload), now: this.deps.clock.now() });
  }

  private base(number: NumberRecord, call: CallRecord) {
    const inbound = call.direction === 'inbound';
    return { call_id: call.id, direction: call.direction, from: inbound ? call.contact : number.phoneNumber, to: inbound ? number.phoneNumber : call.contact };
  }

  create(number: NumberRecord, c: { direction: CallRecord['direction']; contact: string; sipCallId?: string; greeting?: string | null; instructions?: string | null; apiKeyId?: string | null }): CallRecord {
    const record = this.deps.db.transaction(() => {
      const call = this.deps.calls.insert({
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
      });
      if (c.direction === 'inbound') this.event(number, call, { event: 'call.inbound', ...this.base(number, call), timestamp: call.createdAt });
      return call;
    })();
    this.deps.notify();
    return record;
  }

  /** A live call rings (an ended one stays as it ended). */
  ringing(callId: string, sipCallId: string | null): void {
    this.deps.calls.setStatus(callId, 'ringing');
    if (sipCallId) this.deps.calls.setSipCallId(callId, sipCallId);
  }

  /** Marks the call answered with its call.answered event; false when it had already ended. */
  answered(number: NumberRecord, callId: string): boolean {
    const changed = this.deps.db.transaction(() => {
      const at = this.iso();
      if (!this.deps.calls.markAnswered(callId, at)) return false;
      const call = this.deps.calls.get(callId) as CallRecord;
      this.event(number, call, { event: 'call.answered', ...this.base(number, call), timestamp: at });
      return true;
    })();
    if (changed) this.deps.notify();
    return changed;
  }

  /** Stores a turn's transcript with the call (and counts it). */
  turn(callId: string, t: { transcript: string; dtmf: string | null; action: string; reply: string | null }): void {
    this.deps.calls.addTurn(callId, { callerText: t.transcript, dtmf: t.dtmf, action: t.action, agentReply: t.reply, createdAt: this.iso() });
  }

  /** The caller talked over the latest reply, having heard this share of it. */
  bargeIn(callId: string, heardFraction: number): void {
    this.deps.calls.setHeardFraction(callId, heardFraction);
  }

  /** Ends the call once (later calls are no-ops); returns the final record. */
  end(number: NumberRecord, callId: string, e: CallEnd): CallRecord | undefined {
    const result = this.deps.db.transaction(() => {
      const call = this.deps.calls.get(callId);
      if (!call) return undefined;
      const now = this.deps.clock.now();
      const durationMs = call.answeredAt ? Math.max(0, now - Date.parse(call.answeredAt)) : null;
      const billableMinutes = durationMs === null ? 0 : Math.ceil(durationMs / 60_000);
      const endedAt = new Date(now).toISOString();
      const changed = this.deps.calls.end({
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
      if (billableMinutes > 0) this.deps.ledger.recordVoiceMinutes(number.id, billableMinutes, now);
      const ended = this.deps.calls.get(callId) as CallRecord;
      if (ended.answeredAt) {
        this.event(number, ended, {
          event: 'call.completed',
          ...this.base(number, ended),
          duration_seconds: Math.round((durationMs ?? 0) / 1000),
          billable_minutes: billableMinutes,
          end_reason: e.reason,
          timestamp: endedAt,
        });
      } else {
        this.event(number, ended, { event: 'call.failed', ...this.base(number, ended), reason: e.reason, sip_status: e.sipStatus ?? null, timestamp: endedAt });
      }
      return ended;
    })();
    if (result) this.deps.notify();
    return result;
  }

  /** Whether the number may start another call: minutes left, or overage on. */
  mayCall(number: NumberRecord): boolean {
    if (number.overageEnabled) return true;
    return this.deps.ledger.report(number, ledgerMonth(this.deps.clock.now())).voice.used < this.deps.included;
  }
}
