/** An audit row as the admin API lists it. */
export interface AuditCsvRow {
  at: string;
  numberId: string;
  phoneNumber: string;
  contact: string;
  action: string;
  source: string;
  keyword: string | null;
  actor: string;
  note: string | null;
}

const HEADER = ['at', 'number_id', 'phone_number', 'contact', 'action', 'source', 'keyword', 'actor', 'note'];

/**
 * RFC 4180 quoting, and a leading apostrophe before what a spreadsheet would run as a formula
 * (= @ - or a + not followed by a phone number's digits): contacts and notes come from outside.
 */
function cell(value: string | null): string {
  let text = value ?? '';
  if (/^[=@\t\r-]/.test(text) || /^\+(?![0-9]+$)/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The opt-out audit history as CSV (CRLF lines, header first), oldest change first. */
export function auditCsv(rows: readonly AuditCsvRow[]): string {
  const lines = [HEADER.join(',')];
  for (const r of rows) lines.push([r.at, r.numberId, r.phoneNumber, r.contact, r.action, r.source, r.keyword, r.actor, r.note].map(cell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
