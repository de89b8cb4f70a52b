/** Service centre time stamps (3GPP TS 23.040 §9.2.3.11): swapped BCD with a quarter-hour zone. */
import { ValidationError } from '../errors/index.ts';
import type { PduReader } from './bytes.ts';

export interface Timestamp {
  /** Local time as sent, ISO 8601 with its offset: 2024-03-01T14:05:09+01:00. */
  readonly iso: string;
  readonly epochMs: number;
  readonly tzOffsetMinutes: number;
}

const LIMITS: readonly (readonly [string, number, number])[] = [
  ['year', 0, 99],
  ['month', 1, 12],
  ['day', 1, 31],
  ['hour', 0, 23],
  ['minute', 0, 59],
  ['second', 0, 59],
];

/** Reads 7 octets: YY MM DD hh mm ss TZ, each a swapped BCD pair; TZ bit 3 is the sign. */
export function readScts(r: PduReader, field: string): Timestamp {
  const start = r.pos;
  const bytes = r.take(7, field);
  const v: number[] = [];
  for (let i = 0; i < 7; i++) {
    const b = bytes[i] as number;
    const tens = i === 6 ? b & 0x07 : b & 0x0f;
    const units = b >> 4;
    if (tens > 9 || units > 9) r.fail('PDU_INVALID_FIELD', `${field} has a non-decimal digit`, start + i);
    v.push(tens * 10 + units);
    const limit = LIMITS[i];
    if (limit && (v[i] as number) < limit[1]) r.fail('PDU_INVALID_FIELD', `${field} ${limit[0]} is ${v[i]}`, start + i);
    if (limit && (v[i] as number) > limit[2]) r.fail('PDU_INVALID_FIELD', `${field} ${limit[0]} is ${v[i]}`, start + i);
  }
  const [yy, mo, d, h, mi, s, quarters] = v as [number, number, number, number, number, number, number];
  const tzOffsetMinutes = ((bytes[6] as number) & 0x08 ? -1 : 1) * quarters * 15;
  // Two-digit years pivot as gammu reads them: 90–99 are the 1990s (a phone's clock
  // reset, or an old stored message), 00–89 this century.
  const year = yy >= 90 ? 1900 + yy : 2000 + yy;
  const epochMs = Date.UTC(year, mo - 1, d, h, mi, s) - tzOffsetMinutes * 60_000;
  const iso = `${year}-${p2(mo)}-${p2(d)}T${p2(h)}:${p2(mi)}:${p2(s)}${formatOffset(tzOffsetMinutes)}`;
  return { iso, epochMs, tzOffsetMinutes };
}

/** Encodes `date` as seen in a zone `tzOffsetMinutes` east of UTC (rounded to quarter hours). */
export function encodeScts(date: Date, tzOffsetMinutes = 0): number[] {
  const quarters = Math.round(tzOffsetMinutes / 15);
  if (!Number.isFinite(date.getTime())) throw new ValidationError('timestamp must be a valid date');
  if (Math.abs(quarters) > 79) throw new ValidationError('tzOffsetMinutes must be within ±1185 (±19:45)');
  const local = new Date(date.getTime() + quarters * 15 * 60_000);
  const fields = [
    local.getUTCFullYear() % 100,
    local.getUTCMonth() + 1,
    local.getUTCDate(),
    local.getUTCHours(),
    local.getUTCMinutes(),
    local.getUTCSeconds(),
    Math.abs(quarters),
  ];
  const out = fields.map((n) => ((n % 10) << 4) | Math.floor(n / 10));
  if (quarters < 0) out[6] = (out[6] as number) | 0x08;
  return out;
}

function p2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function formatOffset(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`;
}
