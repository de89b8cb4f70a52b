import type { MessageRecord, NumberRecord, PartRecord } from '../store/index.ts';

export interface PartView {
  seq: number;
  status: PartRecord['status'];
  messageRef: number | null;
  attempts: number;
  sentAt: string | null;
  report: { status: number; at: string } | null;
  error: { code: string; message: string } | null;
}

export interface MessageView {
  id: string;
  numberId: string;
  direction: 'inbound' | 'outbound';
  channel: 'sms' | 'mms';
  from: string;
  to: string;
  body: string;
  media: string[];
  status: MessageRecord['status'];
  encoding: string | null;
  segments: number;
  partial: boolean;
  missingParts: number[];
  error: { code: string; message: string } | null;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  parts?: PartView[];
}

export function toMessageView(m: MessageRecord, number: NumberRecord, parts?: readonly PartRecord[]): MessageView {
  const outbound = m.direction === 'outbound';
  return {
    id: m.id,
    numberId: m.numberId,
    direction: m.direction,
    channel: m.channel,
    from: outbound ? number.phoneNumber : m.contact,
    to: outbound ? m.contact : number.phoneNumber,
    body: m.body,
    media: m.media,
    status: m.status,
    encoding: m.encoding,
    segments: m.segments,
    partial: m.partial,
    missingParts: m.missingParts ?? [],
    error: m.errorCode === null ? null : { code: m.errorCode, message: m.errorMessage ?? '' },
    createdAt: m.createdAt,
    sentAt: m.sentAt,
    deliveredAt: m.deliveredAt,
    ...(parts && {
      parts: parts.map((p) => ({
        seq: p.seq,
        status: p.status,
        messageRef: p.mr,
        attempts: p.attempts,
        sentAt: p.sentAt,
        report: p.reportStatus === null || p.reportAt === null ? null : { status: p.reportStatus, at: p.reportAt },
        error: p.errorCode === null ? null : { code: p.errorCode, message: p.errorMessage ?? '' },
      })),
    }),
  };
}

/** Opaque pagination cursor: the last item's (createdAt, id). */
export function encodeCursor(m: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([m.createdAt, m.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') return { createdAt: value[0], id: value[1] };
  } catch {
    // fall through
  }
  return undefined;
}
