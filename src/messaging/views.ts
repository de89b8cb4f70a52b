import type { MessageRecord, NumberRecord, PartRecord } from '../store/index.ts';
import type { InboundPayload } from '../webhooks/index.ts';

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
  /** The bytes and ports of an inbound data or port-addressed SMS, as its webhook carried them. */
  data?: NonNullable<InboundPayload['data']>;
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
    ...dataField(m),
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

/**
 * The payload extension of a data (8-bit) or port-addressed SMS; undefined for plain text, whose
 * payload stays exactly the spec's.
 */
export function inboundData(m: { data: Uint8Array | null; ports: { source: number; destination: number } | null }): InboundPayload['data'] {
  if (m.data === null && m.ports === null) return undefined;
  return {
    encoding: 'base64',
    bytes: m.data === null ? '' : Buffer.from(m.data).toString('base64'),
    ports: m.ports && { source: m.ports.source, destination: m.ports.destination },
  };
}

function dataField(m: MessageRecord): { data?: NonNullable<InboundPayload['data']> } {
  const data = inboundData(m);
  return data ? { data } : {};
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
