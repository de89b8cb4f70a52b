import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ValidationError } from '../errors/index.ts';

/**
 * A recipient as E.164. Common formatting ("+1 (555) 987-6543") is accepted because the
 * result is unambiguous; a number without its country code, letters, or an extension is not.
 */
export function toE164(input: unknown, field: string): string {
  if (typeof input !== 'string' || input.trim() === '') throw new ValidationError(`${field}: required, an E.164 phone number like +15559876543`);
  const text = input.trim();
  if (!text.startsWith('+')) throw new ValidationError(`${field}: must start with + and the country code (E.164), e.g. +15559876543`);
  if (!/^\+[\d\s().-]+$/.test(text)) throw new ValidationError(`${field}: may contain only digits after the + (spaces, dots, dashes and parentheses are ignored)`);
  const normalized = possibleE164(text);
  if (normalized === null) throw new ValidationError(`${field}: "${text}" is not a possible phone number`);
  return normalized;
}

/**
 * The other party of a conversation as stored: E.164 when it looks like a number (the + may be
 * missing, as when it came URL-decoded from a path where + turned into a space), else the
 * alphanumeric sender as given ("BANK").
 */
export function toContact(input: string, field: string): string {
  const text = input.trim();
  return /^\+?[\d\s().-]+$/.test(text) ? toE164(text.startsWith('+') ? text : `+${text}`, field) : text;
}

// Agents write to the same people again and again; parsing with full metadata is the costly
// part of validating a send, so results (null: not possible) are remembered, a bounded number.
const MEMO_LIMIT = 10_000;
const memo = new Map<string, string | null>();

function possibleE164(text: string): string | null {
  const known = memo.get(text);
  if (known !== undefined) return known;
  const parsed = parsePhoneNumberFromString(text);
  const result = parsed && parsed.isPossible() && !parsed.ext ? parsed.number : null;
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(text, result);
  return result;
}
