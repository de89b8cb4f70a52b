/** The admin API as the dashboard uses it: session cookie + CSRF header, errors as ApiError. */

import type { CallEntryOf, ConversationEntryOf, ConversationListOf, ConversationSummaryOf, ConversationThreadOf } from '../../conversations/shapes.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf: { header: string; token: string } | null = null;
let onLoggedOut: () => void = () => undefined;

export function whenLoggedOut(fn: () => void): void {
  onLoggedOut = fn;
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  const body: unknown = text === '' ? null : JSON.parse(text);
  if (!res.ok) {
    const e = (body ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, e.error ?? res.statusText, e.message ?? `The gateway answered ${res.status}`);
  }
  return body as T;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf && method !== 'GET') headers[csrf.header] = csrf.token;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined && { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'Network Error', 'The gateway cannot be reached. Is it running?');
  }
  if (res.status === 401 && path.startsWith('/admin/')) {
    csrf = null;
    onLoggedOut();
  }
  return parse<T>(res);
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);

interface SessionInfo {
  csrfToken: string;
  csrfHeader: string;
}

export async function login(token: string): Promise<void> {
  const s = await request<SessionInfo>('POST', '/auth/login', { token });
  csrf = { header: s.csrfHeader, token: s.csrfToken };
}

/** Picks up a session from an earlier visit (the cookie survives a reload; the CSRF token is asked for again). */
export async function resume(): Promise<boolean> {
  try {
    const s = await request<SessionInfo>('GET', '/auth/session');
    csrf = { header: s.csrfHeader, token: s.csrfToken };
    return true;
  } catch {
    return false;
  }
}

export async function logout(): Promise<void> {
  try {
    await request<null>('POST', '/auth/logout');
  } finally {
    csrf = null;
  }
}

/** Subscribes to a server-sent event stream; returns the unsubscribe function. */
export function subscribe<T>(path: string, event: string, handler: (data: T) => void, onState?: (live: boolean) => void): () => void {
  return subscribeAll(path, { [event]: handler }, onState);
}

/** Subscribes to several events of one stream (one connection), a handler per event name. */
export function subscribeAll<H extends Record<string, (data: never) => void>>(path: string, handlers: H, onState?: (live: boolean) => void): () => void {
  const source = new EventSource(path);
  for (const [event, handler] of Object.entries(handlers)) {
    source.addEventListener(event, (e) => handler(JSON.parse((e as MessageEvent<string>).data) as never));
  }
  source.onopen = () => onState?.(true);
  source.onerror = () => onState?.(false);
  return () => source.close();
}

export const qs = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
};

// The shapes the admin API returns.

export interface NumberView {
  id: string;
  phoneNumber: string;
  line: string | null;
  label: string | null;
  status: 'active' | 'inactive';
  webhookUrl: string | null;
  webhookTimeoutMs: number;
  overageEnabled: boolean;
  createdAt: string;
}

export interface LineStatus {
  id: string;
  state: string;
  manufacturer: string | null;
  model: string | null;
  number: string | null;
  signal: { rssi: number; dbm: number } | null;
  registration: string;
  operator: string | null;
  queueDepth: number;
  lastError: string | null;
  delivery: 'storage' | 'direct' | null;
}

/** One entry of a line's event log (GET /admin/modems/:id/events). */
export interface LineEvent {
  at: string;
  type: 'state' | 'registration' | 'error' | 'recovered' | 'routing';
  detail: string;
  repeated: number;
}

/** This node's view of the cluster (GET /admin/cluster, the "cluster" event of /admin/modems/stream). */
export interface ClusterView {
  node: string;
  store: 'sqlite' | 'postgres';
  connected: boolean;
  leasedElsewhere: Array<{ line: string; node: string }>;
  nodes: Array<{ id: string; host: string; alive: boolean; heartbeatAgeMs: number; lines: string[] }>;
}

export interface VoiceStatus {
  enabled: boolean;
  connected: boolean;
  trunks: Array<{ name: string; kind: 'register' | 'ip'; state: 'registered' | 'registering' | 'failed' | 'ip'; expiresAt: string | null; lastError: string | null }>;
}

export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  numbers: string[] | 'all';
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface WebhookView {
  numberId: string;
  url: string | null;
  timeoutMs: number;
  secret: string;
}

export interface Delivery {
  id: string;
  numberId: string;
  event: string;
  messageId: string | null;
  status: 'pending' | 'held' | 'delivered' | 'dead';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  /** Dead, or pending after a failed attempt: only these offer Redeliver. */
  redeliverable: boolean;
}

export interface TestResult {
  url: string;
  status: number | null;
  durationMs: number;
  body: string;
  error: string | null;
}

export interface PartView {
  seq: number;
  status: string;
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
  status: string;
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

/** The conversation routes' shapes (GET /admin/numbers/:id/conversations[/:contact]), over this file's MessageView. */
export type ConversationSummary = ConversationSummaryOf<MessageView>;
export type ConversationPage = ConversationListOf<MessageView>;
export type CallEntry = CallEntryOf<string>;
export type ConversationEntry = ConversationEntryOf<MessageView, string>;
export type ConversationThread = ConversationThreadOf<MessageView, string>;

export interface UsageLine {
  unit: string;
  included: number;
  used: number;
  overage: number;
  overageRate: number;
  overageCost: number;
}

export interface UsageReport {
  numberId: string;
  phoneNumber: string;
  month: string;
  baseFee: number;
  overageEnabled: boolean;
  sms: UsageLine & { outbound: number; inbound: number };
  voice: UsageLine;
  total: number;
}

export interface DailyUsage {
  month: string;
  numbers: Array<{ report: UsageReport; days: Array<{ date: string; segmentsOut: number; segmentsIn: number; voiceMinutes: number }> }>;
}

export interface Overview {
  month: string;
  today: { date: string; inbound: number; outbound: number };
  webhooks: { dead: number; retrying: number; held: number };
  quota: Array<{
    numberId: string;
    phoneNumber: string;
    overageEnabled: boolean;
    segmentsUsed: number;
    segmentsIncluded: number;
    minutesUsed: number;
    minutesIncluded: number;
  }>;
}

export type { SubscriberMessage } from '../../modem/virtual/subscriber-inbox.ts';

/** An MMS a virtual subscriber phone received (GET /admin/sim/mms-inbox, the simulator's stream). */
export interface SubscriberMmsView {
  from: string;
  subject: string | null;
  body: string;
  receivedAt: string;
  media: Array<{ contentType: string; name: string | null; size: number; url: string }>;
}
