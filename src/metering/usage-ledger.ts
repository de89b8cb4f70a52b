import type { Kysely } from 'kysely';
import type { Config } from '../config/index.ts';
import { QuotaExceededError } from '../errors/index.ts';
import { UsageRepository, type Database, type NumberRecord } from '../store/index.ts';
import { ledgerMonth } from './month.ts';

export const USAGE_KINDS = {
  smsOut: 'sms_segments_out',
  smsIn: 'sms_segments_in',
  voiceMinutes: 'voice_minutes',
} as const;

export interface UsageLine {
  unit: 'segment' | 'minute';
  included: number;
  used: number;
  overage: number;
  overageRate: number;
  overageCost: number;
}

export interface UsageReport {
  numberId: string;
  phoneNumber: string;
  month: string;
  currency: 'USD';
  baseFee: number;
  overageEnabled: boolean;
  sms: UsageLine & { outbound: number; inbound: number };
  voice: UsageLine;
  total: number;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

function line(unit: UsageLine['unit'], included: number, used: number, rate: number): UsageLine {
  const overage = Math.max(0, used - included);
  return { unit, included, used, overage, overageRate: rate, overageCost: cents(overage * rate) };
}

/** Every SMS segment of the month, in and out, counts against the included allowance. */
const SMS_KINDS = [USAGE_KINDS.smsOut, USAGE_KINDS.smsIn] as const;

/** Segment and minute metering per number per month, with the included allowance and overage. */
export class UsageLedger {
  constructor(
    private readonly repo: UsageRepository,
    private readonly prices: Config['metering'],
  ) {}

  /**
   * The same ledger writing through `tx`, so a charge commits or rolls back with the send it
   * belongs to. Cheap: build one per transaction.
   */
  on(tx: Kysely<Database>): UsageLedger {
    return new UsageLedger(new UsageRepository(tx), this.prices);
  }

  /**
   * Records `segments` outbound segments, or refuses with 429 Quota Exceeded when overage is
   * off and they would pass the allowance. Call on the send transaction (`on(tx)`). The check
   * and the charge are one statement, so two nodes sending at once cannot both spend the last
   * segments.
   */
  async chargeOutbound(number: NumberRecord, segments: number, now: number): Promise<void> {
    const month = ledgerMonth(now);
    if (number.overageEnabled) {
      await this.repo.add(number.id, month, USAGE_KINDS.smsOut, segments);
      return;
    }
    const included = this.prices.includedSegments;
    if (await this.repo.addWithinLimit(number.id, month, USAGE_KINDS.smsOut, segments, { kinds: SMS_KINDS, max: included })) return;
    // Refused (the rare path): read what is used, for the message.
    const usage = await this.repo.forNumber(number.id, month);
    const used = (usage[USAGE_KINDS.smsOut] ?? 0) + (usage[USAGE_KINDS.smsIn] ?? 0);
    throw new QuotaExceededError(
      `This message needs ${segments} segment(s) but only ${Math.max(0, included - used)} of the ` +
        `${included} included this month remain, and overage is off for this number`,
    );
  }

  /** Inbound is never refused, only counted. */
  async recordInbound(numberId: string, segments: number, now: number): Promise<void> {
    await this.repo.add(numberId, ledgerMonth(now), USAGE_KINDS.smsIn, segments);
  }

  async recordVoiceMinutes(numberId: string, minutes: number, now: number): Promise<void> {
    await this.repo.add(numberId, ledgerMonth(now), USAGE_KINDS.voiceMinutes, minutes);
  }

  async report(number: NumberRecord, month: string): Promise<UsageReport> {
    const usage = await this.repo.forNumber(number.id, month);
    const outbound = usage[USAGE_KINDS.smsOut] ?? 0;
    const inbound = usage[USAGE_KINDS.smsIn] ?? 0;
    const p = this.prices;
    const sms = line('segment', p.includedSegments, outbound + inbound, number.overageEnabled ? p.overageSegmentUsd : 0);
    const voice = line('minute', p.includedVoiceMinutes, usage[USAGE_KINDS.voiceMinutes] ?? 0, number.overageEnabled ? p.overageVoiceMinuteUsd : 0);
    return {
      numberId: number.id,
      phoneNumber: number.phoneNumber,
      month,
      currency: 'USD',
      baseFee: p.numberMonthlyUsd,
      overageEnabled: number.overageEnabled,
      sms: { ...sms, outbound, inbound },
      voice,
      total: cents(p.numberMonthlyUsd + sms.overageCost + voice.overageCost),
    };
  }
}
