import type { UsageReport } from '../../metering/index.ts';
import type { DailyTotals } from '../../store/index.ts';

const HEADER = [
  'month',
  'number_id',
  'phone_number',
  'date',
  'segments_out',
  'segments_in',
  'segments_included',
  'segments_overage',
  'voice_minutes',
  'voice_minutes_included',
  'overage_cost_usd',
  'total_usd',
];

function cell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Per number: one row per UTC day with its segments and voice minutes, then a "total" row with the month's figures and cost. */
export function usageCsv(rows: ReadonlyArray<{ report: UsageReport; days: readonly DailyTotals[] }>): string {
  const lines = [HEADER.join(',')];
  for (const { report: r, days } of rows) {
    for (const d of days) {
      lines.push([r.month, r.numberId, r.phoneNumber, d.date, d.outbound, d.inbound, '', '', d.minutes, '', '', ''].map(cell).join(','));
    }
    lines.push(
      [
        r.month,
        r.numberId,
        r.phoneNumber,
        'total',
        r.sms.outbound,
        r.sms.inbound,
        r.sms.included,
        r.sms.overage,
        r.voice.used,
        r.voice.included,
        (r.sms.overageCost + r.voice.overageCost).toFixed(2),
        r.total.toFixed(2),
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
