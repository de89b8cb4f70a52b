/** TP-VP, validity period (3GPP TS 23.040 §9.2.3.12). */
import { ValidationError } from '../errors/index.ts';

export type ValidityOption = 'max' | 'none' | { readonly minutes: number };

const DAY = 1440;
const WEEK = 7 * DAY;

/** The relative TP-VP octet for at least `minutes` (rounded up to the next step the format has). */
export function relativeValidity(option: ValidityOption): number | null {
  if (option === 'none') return null;
  if (option === 'max') return 255;
  const m = option.minutes;
  if (!Number.isFinite(m) || m <= 0) throw new ValidationError('validity.minutes must be a positive number');
  if (m <= 720) return Math.max(0, Math.ceil(m / 5) - 1);
  if (m <= DAY) return 143 + Math.ceil((m - 720) / 30);
  if (m <= 30 * DAY) return 166 + Math.max(2, Math.ceil(m / DAY));
  return Math.min(255, 192 + Math.ceil(m / WEEK));
}

export function relativeValidityMinutes(vp: number): number {
  if (vp <= 143) return (vp + 1) * 5;
  if (vp <= 167) return 720 + (vp - 143) * 30;
  if (vp <= 196) return (vp - 166) * DAY;
  return (vp - 192) * WEEK;
}
