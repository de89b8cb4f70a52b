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
  const parsed = parsePhoneNumberFromString(text);
  if (!parsed || !parsed.isPossible() || parsed.ext) throw new ValidationError(`${field}: "${text}" is not a possible phone number`);
  return parsed.number;
}
