/**
 * Which sent part a status report is about. TP-MR is one octet per line, so a busy line reuses
 * it every 256 sends and a report may come after its MR was reused; the report also carries the
 * recipient (TP-RA) and when the service centre received the SUBMIT (TP-SCTS), which single out
 * the part among those still waiting on that line with that MR.
 */

/** How far the service centre's receipt time may be from our own sent time for the same part. */
export const DEFAULT_REPORT_WINDOW_MS = 15 * 60_000;

export interface ReportCandidate {
  /** ISO time the modem accepted the part. */
  sentAt: string | null;
  /** E.164 recipient of the part's message. */
  contact: string;
}

export interface ReportKey {
  /** TP-RA as decoded: digits, with a leading + when international. */
  recipient: string;
  /** TP-SCTS in ms since the epoch. */
  receivedAtMs: number;
}

/**
 * `candidates` are the parts awaiting a report on the report's line with its MR, oldest first.
 * Among those sent to its recipient: the oldest sent within `windowMs` of TP-SCTS (reports come
 * back roughly in sending order; the window keeps out parts whose own report was lost long
 * ago). When none is (a service centre clock that is off), the one sent nearest to TP-SCTS.
 */
export function matchReport<P extends ReportCandidate>(
  candidates: readonly P[],
  key: ReportKey,
  windowMs: number = DEFAULT_REPORT_WINDOW_MS,
): { part: P; inWindow: boolean } | undefined {
  const timed = candidates
    .filter((c) => sameRecipient(c.contact, key.recipient))
    .map((part) => ({ part, offsetMs: Math.abs(Date.parse(part.sentAt ?? '') - key.receivedAtMs) }))
    .filter((c) => Number.isFinite(c.offsetMs));
  const inWindow = timed.find((c) => c.offsetMs <= windowMs);
  if (inWindow) return { part: inWindow.part, inWindow: true };
  const nearest = timed.reduce<(typeof timed)[number] | undefined>((best, c) => (best === undefined || c.offsetMs < best.offsetMs ? c : best), undefined);
  return nearest && { part: nearest.part, inWindow: false };
}

/**
 * The same subscriber: equal digits, or a national-format TP-RA (no country code, perhaps a
 * trunk 0) that ends our E.164 number. An alphanumeric or empty TP-RA matches nothing.
 */
export function sameRecipient(contact: string, recipient: string): boolean {
  const ours = contact.replace(/\D/g, '');
  const theirs = recipient.replace(/\D/g, '');
  if (theirs === '' || /[^\d\s+()-]/.test(recipient)) return false;
  if (ours === theirs) return true;
  const national = theirs.replace(/^0+/, '');
  return !recipient.trim().startsWith('+') && national.length >= 6 && ours.endsWith(national);
}
