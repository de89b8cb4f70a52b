import { createHmac } from 'node:crypto';

/** The spec's inbound-message payload, keys in the spec's order (the order is the signature). */
export interface InboundPayload {
  event: 'message.inbound';
  channel: 'sms' | 'mms';
  from: string;
  to: string;
  body: string;
  media: string[];
  timestamp: string;
  message_id: string;
  /** Extension, after the spec's keys: what a data (8-bit) or port-addressed SMS carried. */
  data?: InboundData;
}

/** An inbound SMS's payload bytes and application ports (absent from text-only messages). */
export interface InboundData {
  encoding: 'base64';
  /** The 8-bit user data, parts joined, in base64; empty for a port-addressed text message. */
  bytes: string;
  ports: { source: number; destination: number } | null;
}

/** An outbound message's status change. */
export interface StatusPayload {
  event: 'message.status';
  channel: 'sms' | 'mms';
  message_id: string;
  status: 'sent' | 'delivered' | 'failed';
  from: string;
  to: string;
  timestamp: string;
  error: { code: string; message: string } | null;
}

/**
 * Extension of the spec: an MMS arrived on a line without MMS configured. Its notification is
 * kept; the message itself stays on the carrier's MMSC (until it expires) and is fetched
 * once MMS is configured for the line and the gateway restarts.
 */
export interface MmsUnfetchablePayload {
  event: 'mms.unfetchable';
  channel: 'mms';
  /** The sender, or null when the MMSC hides it. */
  from: string | null;
  to: string;
  /** The size the MMSC announced, in bytes. */
  size: number;
  subject: string | null;
  /** When the MMSC deletes the message if nobody fetches it; null when not announced. */
  expires_at: string | null;
  reason: 'mms_not_configured';
  timestamp: string;
}

/**
 * Extension: a contact opted out of the number (a STOP keyword, or an admin) or back in
 * (START, or an admin removing the opt-out).
 */
export interface ContactOptPayload {
  event: 'contact.opted_out' | 'contact.opted_in';
  contact: string;
  /** Your number (E.164) and its id. */
  number: string;
  number_id: string;
  source: 'keyword' | 'admin';
  /** The keyword matched (upper case), for source keyword. */
  keyword: string | null;
  /** `contact` for a keyword; for an admin change, what the admin call named (`cli:alice`, `dashboard`). */
  actor: string;
  /** The inbound message that carried the keyword; null for an admin change. */
  message_id: string | null;
  timestamp: string;
}

/** Sent by `agentphone webhook test`. */
export interface TestPayload {
  event: 'webhook.test';
  to: string;
  timestamp: string;
}

/** Fields every call event carries, first, in this order. */
interface CallEventBase {
  call_id: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
}

/** A call came in (before it is answered). */
export interface CallInboundPayload extends CallEventBase {
  event: 'call.inbound';
  timestamp: string;
}

export interface CallAnsweredPayload extends CallEventBase {
  event: 'call.answered';
  timestamp: string;
}

/** The call ended after being answered; minutes are rounded up per call. */
export interface CallCompletedPayload extends CallEventBase {
  event: 'call.completed';
  duration_seconds: number;
  billable_minutes: number;
  end_reason: string;
  timestamp: string;
}

/** The call never connected (rejected, unanswered, refused for quota, or a media error). */
export interface CallFailedPayload extends CallEventBase {
  event: 'call.failed';
  reason: string;
  sip_status: number | null;
  timestamp: string;
}

/**
 * One conversational turn, POSTed synchronously to the number's webhook; the answer is
 * {"action":"respond","reply"} | {"action":"transfer","to"} | {"action":"hangup"} | {"action":"ignore"}.
 */
export interface CallTurnPayload extends CallEventBase {
  event: 'call.turn';
  transcript: string;
  dtmf: string | null;
  history: Array<{ role: 'user' | 'assistant'; content: string }>;
  instructions: string | null;
  timestamp: string;
}

export type CallPayload = CallInboundPayload | CallAnsweredPayload | CallCompletedPayload | CallFailedPayload | CallTurnPayload;

export type WebhookPayload = InboundPayload | StatusPayload | TestPayload | CallPayload | MmsUnfetchablePayload | ContactOptPayload;

export interface SignedWebhook {
  /** The exact bytes to POST. */
  body: Buffer;
  /** Hex HMAC-SHA256 of `body`: the X-AgentPhone-Signature header. */
  headerSignature: string;
}

function hmacHex(secret: string, data: string | Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/**
 * Signs a payload as ARCHITECTURE.md specifies: the body's `signature` field is the HMAC of
 * JSON.stringify(payload without it); the header is the HMAC of the raw body sent. The body is
 * compact JSON with raw UTF-8, so JSON.stringify(JSON.parse(body)) reproduces it byte for byte
 * and both of the spec's verification examples (Node: re-stringified body, Python: raw bytes)
 * accept it.
 */
export function signWebhook(payload: WebhookPayload, secret: string): SignedWebhook {
  const signature = hmacHex(secret, JSON.stringify(payload));
  const body = Buffer.from(JSON.stringify({ ...payload, signature }), 'utf8');
  return { body, headerSignature: hmacHex(secret, body) };
}
