import { afterEach, describe, expect, it } from 'vitest';
import { CallsRepository } from '../../src/store/index.ts';
import { SseClient } from '../helpers/sse-client.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const SUBSCRIBER = '+15557654321';

/** Reads a server-sent event stream until `want` accepts an event, then closes it. */
async function nextEvent<T>(url: string, cookie: string, want: (event: string, data: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const stream = await SseClient.open(url, { cookie });
  try {
    return await stream.waitFor(want, timeoutMs);
  } finally {
    stream.close();
  }
}

describe('dashboard login and admin API (real gateway on loopback, virtual lines)', () => {
  const tempDir = useTempDir();
  let gw: TestGateway;
  const receiver = new WebhookReceiver();
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const res = await fetch(`${gw.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN_TOKEN }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') as string;
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    return { cookie: setCookie.split(';')[0] as string, csrf: csrfToken, setCookie };
  }

  it('logs in with the admin token into an HttpOnly SameSite=Strict cookie; CSRF guards changes; logout ends it', async () => {
    gw = await startTestGateway(tempDir(), { server: { port: 0, publicUrl: null } });
    const bad = await fetch(`${gw.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"wrong-token"}' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'Unauthorized', message: 'Invalid admin token' });

    const { cookie, csrf, setCookie } = await login();
    expect(setCookie).toMatch(/^agentphone_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);

    // Reads need only the cookie.
    const keys = await fetch(`${gw.url}/admin/keys`, { headers: { cookie } });
    expect(keys.status).toBe(200);
    // A change without the CSRF header, or with a wrong one, is refused.
    const post = (headers: Record<string, string>) =>
      fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: '{"name":"x"}' });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-csrf-token': 'forged' })).status).toBe(401);
    const created = await post({ 'x-csrf-token': csrf });
    expect(created.status).toBe(201);
    // A wrong bearer token is not rescued by a valid cookie.
    expect((await fetch(`${gw.url}/admin/keys`, { headers: { cookie, authorization: 'Bearer nope' } })).status).toBe(401);

    const session = await fetch(`${gw.url}/auth/session`, { headers: { cookie } });
    expect(await session.json()).toEqual({ csrfToken: csrf, csrfHeader: 'x-csrf-token' });

    expect((await fetch(`${gw.url}/auth/logout`, { method: 'POST', headers: { cookie } })).status).toBe(401);
    const out = await fetch(`${gw.url}/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^agentphone_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/);
    expect((await fetch(`${gw.url}/admin/keys`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${gw.url}/auth/session`, { headers: { cookie } })).status).toBe(401);
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    gw = await startTestGateway(tempDir(), { server: { port: 0, publicUrl: 'https://phone.example.com' } });
    const { setCookie } = await login();
    expect(setCookie).toMatch(/; Secure/);
  });

  it('lists messages and conversations across numbers, shows a detail with parts and deliveries, streams changes, counts usage per day', async () => {
    gw = await startTestGateway(tempDir());
    const hookUrl = await receiver.start();
    receiver.answer = () => ({ status: 200, body: { action: 'respond', reply: 'Hi from the agent' } });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    const { cookie, csrf } = await login();
    const admin = async <T>(path: string, init: RequestInit = {}) => {
      const res = await fetch(`${gw.url}/admin${path}`, { ...init, headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json', ...(init.headers as object) } });
      return { status: res.status, json: (await res.json()) as T };
    };

    // The message stream reports the inbound text and then the agent's reply as they happen.
    const inboundSeen = nextEvent<{ direction: string; body: string }>(`${gw.url}/admin/messages/stream`, cookie, (e, d) => e === 'message' && d.direction === 'inbound');
    const sim = await admin('/sim/text', { method: 'POST', body: JSON.stringify({ from: SUBSCRIBER, to: '+15550000001', body: 'Hello agent' }) });
    expect(sim.status).toBe(202);
    expect((await inboundSeen).body).toBe('Hello agent');
    await until(() => gw.network!.inbox(SUBSCRIBER).length === 1, 15_000, 'the inline reply at the subscriber');

    const list = await admin<{ messages: Array<{ id: string; direction: string; body: string; numberId: string }>; nextCursor: string | null }>('/messages');
    expect(list.json.messages.map((m) => [m.direction, m.body])).toEqual([
      ['outbound', 'Hi from the agent'],
      ['inbound', 'Hello agent'],
    ]);
    const page = await admin<{ messages: unknown[]; nextCursor: string }>('/messages?limit=1');
    expect(page.json.messages).toHaveLength(1);
    const rest = await admin<{ messages: Array<{ body: string }> }>(`/messages?limit=1&cursor=${page.json.nextCursor}`);
    expect(rest.json.messages.map((m) => m.body)).toEqual(['Hello agent']);
    expect((await admin<{ messages: unknown[] }>('/messages?q=AGENT&direction=outbound')).json.messages).toHaveLength(1);
    expect((await admin<{ messages: unknown[] }>(`/messages?numberId=${gw.numberB}`)).json.messages).toHaveLength(0);
    expect((await admin('/messages?cursor=nonsense')).status).toBe(400);

    const convs = await admin<{ conversations: Array<{ contact: string; messages: number; last: { body: string } }> }>('/conversations');
    expect(convs.json.conversations).toEqual([expect.objectContaining({ contact: SUBSCRIBER, messages: 2, phoneNumber: '+15550000001', last: expect.objectContaining({ body: 'Hi from the agent' }) })]);

    const inbound = list.json.messages[1]!;
    const detail = await admin<{ message: { encoding: string; segments: number }; deliveries: Array<{ event: string; status: string; lastStatus: number }> }>(`/messages/${inbound.id}`);
    expect(detail.json.message).toMatchObject({ encoding: 'gsm7', segments: 1 });
    expect(detail.json.deliveries).toEqual([expect.objectContaining({ event: 'message.inbound', status: 'delivered', lastStatus: 200 })]);
    const reply = list.json.messages[0]!;
    const replyDetail = await until(async () => {
      const d = await admin<{ message: { status: string; parts: Array<{ seq: number; status: string; messageRef: number }> } }>(`/messages/${reply.id}`);
      return d.json.message.status === 'delivered' && d;
    }, 15_000, 'the reply delivered');
    expect(replyDetail.json.message.parts).toEqual([expect.objectContaining({ seq: 1, status: 'delivered', messageRef: expect.any(Number) })]);
    expect((await admin(`/messages/msg_nope`)).status).toBe(404);

    const today = new Date().toISOString().slice(0, 10);
    // A three-minute call that ended today, written as the call log writes it (SIP is not part of this test).
    const calls = new CallsRepository(gw.core.store.db);
    const now = new Date().toISOString();
    await calls.insert({ id: 'call_dash', numberId: gw.numberA, direction: 'inbound', contact: '+15557654321', status: 'ringing', sipCallId: null, greeting: null, instructions: null, apiKeyId: null, createdAt: now });
    await calls.end({ id: 'call_dash', status: 'completed', endReason: 'hangup', sipStatus: 200, errorMessage: null, durationMs: 150_000, billableMinutes: 3, endedAt: now });
    await gw.core.ledger.recordVoiceMinutes(gw.numberA, 3, Date.parse(now));
    const daily = await admin<{ numbers: Array<{ report: { numberId: string; sms: { used: number } }; days: Array<{ date: string; segmentsOut: number; segmentsIn: number; voiceMinutes: number }> }> }>('/usage/daily');
    const a = daily.json.numbers.find((n) => n.report.numberId === gw.numberA)!;
    expect(a.report.sms.used).toBe(2);
    expect(a.days.find((d) => d.date === today)).toEqual({ date: today, segmentsOut: 1, segmentsIn: 1, voiceMinutes: 3 });
    expect(a.days.filter((d) => d.segmentsIn + d.segmentsOut + d.voiceMinutes > 0)).toHaveLength(1);
    expect(a.days[0]!.date).toBe(`${today.slice(0, 7)}-01`);

    const csv = await fetch(`${gw.url}/admin/usage/export.csv`, { headers: { cookie } });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toBe('month,number_id,phone_number,date,segments_out,segments_in,segments_included,segments_overage,voice_minutes,voice_minutes_included,overage_cost_usd,total_usd');
    expect(rows).toContain(`${today.slice(0, 7)},${gw.numberA},+15550000001,${today},1,1,,,3,,,`);
    expect(rows).toContain(`${today.slice(0, 7)},${gw.numberA},+15550000001,total,1,1,2000,0,3,300,0.00,29.00`);

    const overview = await admin<{ today: { inbound: number; outbound: number }; webhooks: { dead: number }; quota: Array<{ numberId: string; segmentsUsed: number }> }>('/dashboard/overview');
    expect(overview.json.today).toMatchObject({ inbound: 1, outbound: 1 });
    expect(overview.json.webhooks.dead).toBe(0);
    expect(overview.json.quota.find((q) => q.numberId === gw.numberA)?.segmentsUsed).toBe(2);

    const flipped = await admin<{ overageEnabled: boolean }>(`/numbers/${gw.numberA}/settings`, { method: 'PATCH', body: '{"overageEnabled":true}' });
    expect(flipped.json.overageEnabled).toBe(true);
    expect(gw.core.numbers.get(gw.numberA).overageEnabled).toBe(true);
    expect((await admin(`/numbers/num_missing/settings`, { method: 'PATCH', body: '{"overageEnabled":true}' })).status).toBe(404);
  });

  it('streams line status and the virtual subscriber inbox as server-sent events', async () => {
    gw = await startTestGateway(tempDir());
    const { cookie, csrf } = await login();
    const lines = await nextEvent<{ lines: Array<{ id: string; state: string; number: string }> }>(`${gw.url}/admin/modems/stream`, cookie, (e) => e === 'lines');
    expect(lines.lines.map((l) => [l.id, l.state, l.number])).toEqual([
      ['virtual-1', 'ready', '+15550000001'],
      ['virtual-2', 'ready', '+15550000002'],
    ]);
    const sim = (await (await fetch(`${gw.url}/admin/sim`, { headers: { cookie } })).json()) as { enabled: boolean; lines: unknown[] };
    expect(sim).toEqual({ enabled: true, lines: [{ lineId: 'virtual-1', number: '+15550000001' }, { lineId: 'virtual-2', number: '+15550000002' }] });

    const arrived = nextEvent<{ messages: Array<{ body: string }> }>(`${gw.url}/admin/sim/stream?phone=${encodeURIComponent(SUBSCRIBER)}`, cookie, (e, d) => e === 'inbox' && d.messages.length > 0);
    const sent = await fetch(`${gw.url}/api/numbers/${gw.numberA}/send/sms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: SUBSCRIBER, body: 'Your code is 1234' }),
    });
    expect(sent.status).toBe(200);
    expect((await arrived).messages.map((m) => m.body)).toEqual(['Your code is 1234']);
    void csrf;
  });

  it('serves the dashboard page with a strict content security policy, and closes with streams open', async () => {
    gw = await startTestGateway(tempDir());
    const page = await fetch(`${gw.url}/`);
    expect([200, 503]).toContain(page.status);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const { cookie } = await login();
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/admin/modems/stream`, { headers: { cookie }, signal: abort.signal });
    expect(res.status).toBe(200);
    await gw.stop();
    abort.abort();
  });
});
