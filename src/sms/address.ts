/** Address fields (3GPP TS 23.040 §9.1.2.5) and the SMSC address (TS 24.011 §8.2.5.1). */
import { ValidationError } from '../errors/index.ts';
import type { PduReader } from './bytes.ts';
import { decodeGsm7, gsm7Length, encodeGsm7 } from './gsm7.ts';
import { packSeptets, unpackSeptets } from './septets.ts';

export type AddressKind =
  | 'unknown'
  | 'international'
  | 'national'
  | 'network'
  | 'subscriber'
  | 'alphanumeric'
  | 'abbreviated'
  | 'reserved';

const KINDS: readonly AddressKind[] = [
  'unknown', 'international', 'national', 'network', 'subscriber', 'alphanumeric', 'abbreviated', 'reserved',
];

export interface Address {
  /** Digits with a leading + when international; the text of an alphanumeric sender. */
  readonly number: string;
  readonly kind: AddressKind;
  /** Type of number (3 bits) and numbering plan (4 bits) as sent. */
  readonly ton: number;
  readonly npi: number;
}

const DIGITS = '0123456789*#abc';

function readDigits(bytes: Uint8Array, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) {
    const b = bytes[i >> 1] as number;
    const nibble = i & 1 ? b >> 4 : b & 0x0f;
    if (nibble === 0x0f) continue;
    s += DIGITS[nibble] ?? '';
  }
  return s;
}

function toAddress(digitsOrText: string, toa: number): Address {
  const ton = (toa >> 4) & 0x07;
  const kind = KINDS[ton] as AddressKind;
  const number = kind === 'international' && digitsOrText !== '' ? `+${digitsOrText}` : digitsOrText;
  return { number, kind, ton, npi: toa & 0x0f };
}

/** TP-OA / TP-DA / TP-RA: length in semi-octets (useful ones for alphanumeric). */
export function readAddress(r: PduReader, field: string): Address {
  const length = r.byte(`${field} length`);
  const toa = r.byte(`${field} type`);
  const bytes = r.take((length + 1) >> 1, field);
  if (((toa >> 4) & 0x07) === 5) {
    const text = decodeGsm7(unpackSeptets(bytes, Math.floor((length * 4) / 7)));
    return toAddress(text, toa);
  }
  return toAddress(readDigits(bytes, length), toa);
}

/** The SMSC field: length in octets (type octet included); 0 means none. */
export function readSmsc(r: PduReader): Address | null {
  const length = r.byte('SMSC length');
  if (length === 0) return null;
  if (length > 12) r.fail('PDU_INVALID_FIELD', `SMSC length ${length} is over 12 octets`, r.pos - 1);
  const toa = r.byte('SMSC type');
  const bytes = r.take(length - 1, 'SMSC address');
  return toAddress(readDigits(bytes, bytes.length * 2), toa);
}

export type AddressType = 'international' | 'national' | 'unknown';

const NUMERIC = /^\+?[0-9*#]{1,20}$/;

/**
 * Encodes a TP-DA/TP-OA. `+digits` is international (TON 1), other digits use `type`
 * (default unknown); anything else is an alphanumeric sender (allowed only where
 * `allowAlphanumeric`, i.e. an originator).
 */
export function encodeAddress(value: string, field: string, type: AddressType = 'unknown', allowAlphanumeric = false): number[] {
  if (NUMERIC.test(value)) {
    const international = value.startsWith('+');
    const digits = international ? value.slice(1) : value;
    const ton = international ? 1 : type === 'national' ? 2 : type === 'international' ? 1 : 0;
    return [digits.length, 0x80 | (ton << 4) | 0x01, ...semiOctets(digits)];
  }
  if (!allowAlphanumeric) throw new ValidationError(`${field} must be a phone number (digits, optionally with a leading +)`);
  if (value.length === 0 || value.length > 11 || gsm7Length(value) < 0 || gsm7Length(value) > 11) {
    throw new ValidationError(`${field} must be 1 to 11 GSM 7-bit characters when alphanumeric`);
  }
  const packed = packSeptets(encodeGsm7(value));
  const usefulSemiOctets = Math.ceil((gsm7Length(value) * 7) / 4);
  return [usefulSemiOctets, 0xd0, ...packed];
}

/** The SMSC field for AT+CMGS: `00` (use the SIM's SMSC) when no number is given. */
export function encodeSmsc(value: string | undefined): number[] {
  if (value === undefined || value === '') return [0];
  if (!NUMERIC.test(value)) throw new ValidationError('smsc must be a phone number (digits, optionally with a leading +)');
  const international = value.startsWith('+');
  const digits = international ? value.slice(1) : value;
  const body = semiOctets(digits);
  return [body.length + 1, international ? 0x91 : 0x81, ...body];
}

const NIBBLES = new Int8Array(128).fill(-1);
for (let i = 0; i < DIGITS.length; i++) NIBBLES[DIGITS.charCodeAt(i)] = i;

/** Digits as swapped semi-octets; callers pass only what NUMERIC accepts. */
function semiOctets(digits: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < digits.length; i += 2) {
    const lo = NIBBLES[digits.charCodeAt(i)] as number;
    const hi = i + 1 < digits.length ? (NIBBLES[digits.charCodeAt(i + 1)] as number) : 0x0f;
    out.push((hi << 4) | lo);
  }
  return out;
}
