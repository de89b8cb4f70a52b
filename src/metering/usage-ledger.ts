import type { Config } from '../config/index.ts';
import { QuotaExceededError } from '../errors/index.ts';
import type { NumberRecord, UsageRepository } from '../store/index.ts';
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

/** Segment and minute metering per number per month, with the included allowance and overage. */
export class UsageLedger {
  constructor(
    private readonly repo: UsageRepository,
    private readonly prices: Config['metering'],
  ) {}

  /**
   * Records `segments` outbound segments, or refuses with 429 Quota Exceeded when overage is
   * off and they would pass the allowance. Call inside the send transaction.
   */
  chargeOutbound(number: NumberRecord, segments: number, now: number): void {
    const month = ledgerMonth(now);
    if (!number.overageEnabled) {
      const usage = this.repo.forNumber(number.id, month);
      const used = (usage[USAGE_KINDS.smsOut] ?? 0) + (usage[USAGE_KINDS.smsIn] ?? 0);
      if (used + segments > this.prices.includedSegments) {
        throw new QuotaExceededError(
          `This message needs ${segments} segment(s) but only ${Math.max(0, this.prices.includedSegments - used)} of the ` +
            `${this.prices.includedSegments} included this month remain, and overage is off for this number`,
        );
      }
    }
    this.repo.add(number.id, month, USAGE_KINDS.smsOut, segments);
  }

  /** Inbound is never refused, only counted. */
  recordInbound(numberId: string, segments: number, now: number): void {
    this.repo.add(numberId, ledgerMonth(now), USAGE_KINDS.smsIn, segments);
  }

  recordVoiceMinutes(numberId: string, minutes: number, now: number): void {
    this.repo.add(numberId, ledgerMonth(now), USAGE_KINDS.voiceMinutes, minutes);
  }

  report(number: NumberRecord, month: string): UsageReport {
    const usage = this.repo.forNumber(number.id, month);
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
