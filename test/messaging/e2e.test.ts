import { createHmac, timingSafeEqual } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VirtualNetwork } from '../../src/modem/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';

function inboxOf(network: VirtualNetwork, phone: string, count: number) {
  return until(() => {
    const inbox = network.inbox(phone).filter((m) => m.complete);
    return inbox.length >= count && inbox;
  }, 15_000, `${count} message(s) in ${phone}'s inbox`);
}

describe('messaging end to end (virtual modems on PTYs, loopback webhook receiver)', () => {
  const tempDir = useTempDir();
  let gw: TestGateway;
  let receiver: WebhookReceiver;
  let hookUrl: string;

  beforeEach(async () => {
    receiver = new WebhookReceiver();
    hookUrl = await receiver.start();
  });
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  async function start(overrides: Record<string, unknown> = {}) {
    gw = await startTestGateway(tempDir(), overrides);
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    return gw;
  }

  const send = (numberId: string, body: unknown, headers: Record<string, string> = {}) =>
    gw.api(`/api/numbers/${numberId}/send/sms`, { method: 'POST', body: JSON.stringify(body), headers });

  it('sends GSM-7 and UCS-2, single and concatenated, and the subscriber receives each whole', async () => {
    await start();
    const texts = ['Hello!', 'x'.repeat(161) + '€', 'Привет, мир! 👋🏽 '.repeat(8)];
    for (const body of texts) {
      const res = await send(gw.numberA, { to: SUBSCRIBER, body, extraField: 'ignored' });
      expect(res.status).toBe(200);
      const json = (await res.json()) as Record<string, unknown>;
      expect(json).toEqual({ messageId: expect.stringMatching(/^msg_[0-9a-f-]{36}$/), status: 'queued', to: SUBSCRIBER, body });
    }
    const inbox = await inboxOf(gw.network!, SUBSCRIBER, 3);
    expect(inbox.map((m) => m.body).sort()).toEqual([...texts].sort());
    expect(inbox.map((m) => m.parts).sort()).toEqual([1, 2, 3]);
    const listed = (await (await gw.api(`/api/numbers/${gw.numberA}/messages?direction=outbound`)).json()) as {
      messages: Array<{ body: string; encoding: string; segments: number }>;
    };
    expect(listed.messages.map((m) => [m.encoding, m.segments])).toEqual([
      ['ucs2', 3],
      ['gsm7', 2],
      ['gsm7', 1],
    ]);
  });

  it("delivers a subscriber's multi-part message once, as one signed webhook both spec examples verify", async () => {
    await start();
    const body = 'Grüße aus Köln — 你好世界 👨‍👩‍👧 '.repeat(5);
    gw.network!.text(SUBSCRIBER, '+15550000001', body);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
    const [hook] = receiver.events('message.inbound');
    expect(Object.keys(hook!.json)).toEqual(['event', 'channel', 'from', 'to', 'body', 'media', 'timestamp', 'message_id', 'signature']);
    expect(hook!.json).toMatchObject({ event: 'message.inbound', channel: 'sms', from: SUBSCRIBER, to: '+15550000001', body, media: [] });
    expect(hook!.headers['x-agentphone-event']).toBe('message.inbound');
    expect(hook!.headers['x-agentphone-delivery']).toMatch(/^evt_/);
    const secret = gw.core.numbers.get(gw.numberA).webhookSecret;
    // The spec's Node example: HMAC of JSON.stringify(req.body) against the header.
    const nodeExpected = createHmac('sha256', secret).update(JSON.stringify(JSON.parse(hook!.raw.toString('utf8')))).digest('hex');
    const header = String(hook!.headers['x-agentphone-signature']);
    expect(timingSafeEqual(Buffer.from(header, 'hex'), Buffer.from(nodeExpected, 'hex'))).toBe(true);
    // The body's own signature field: HMAC of the payload without it.
    const { signature, ...unsigned } = hook!.json;
    expect(signature).toBe(createHmac('sha256', secret).update(JSON.stringify(unsigned)).digest('hex'));
    // The spec's Python example, run by python3 on the raw bytes.
    const python = spawnSync(
      'python3',
      ['-c', 'import hmac,hashlib,sys; raw=sys.stdin.buffer.read(); print(hmac.compare_digest(sys.argv[2], hmac.new(sys.argv[1].encode(), raw, hashlib.sha256).hexdigest()))', secret, header],
      { input: hook!.raw },
    );
    expect(python.stdout.toString().trim()).toBe('True');
    // Stored once, with its part count metered.
    const inbound = await gw.core.messages.list(gw.numberA, { direction: 'inbound', limit: 10 });
    expect(inbound).toHaveLength(1);
    expect(inbound[0]!.segments).toBeGreaterThan(1);
  });

  it('sends an inline reply back to the sender, once; "ignore" sends nothing', async () => {
    await start();
    receiver.answer = (hook) =>
      hook.json.body === 'ping' ? { status: 200, body: { reply: 'pong 🏓', action: 'respond' } } : { status: 200, body: { action: 'ignore' } };
    gw.network!.text(SUBSCRIBER, '+15550000001', 'ping');
    gw.network!.text(SUBSCRIBER, '+15550000001', 'just saying');
    const inbox = await inboxOf(gw.network!, SUBSCRIBER, 1);
    expect(inbox.map((m) => m.body)).toEqual(['pong 🏓']);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 2);
    const outbound = await gw.core.messages.list(gw.numberA, { direction: 'outbound', limit: 10 });
    expect(outbound.map((m) => m.body)).toEqual(['pong 🏓']);
    expect(outbound[0]!.replyTo).toBe(receiver.events('message.inbound').find((h) => h.json.body === 'ping')!.headers['x-agentphone-delivery']);
  });

  it('retries a receiver that is down, then delivers with the same delivery id', async () => {
    await start();
    let calls = 0;
    receiver.answer = () => (++calls <= 2 ? { status: 503 } : { status: 200, body: { action: 'ignore' } });
    gw.network!.text(SUBSCRIBER, '+15550000001', 'are you there?');
    await receiver.waitFor(() => receiver.received.length === 3);
    const ids = new Set(receiver.received.map((h) => h.headers['x-agentphone-delivery']));
    expect(ids.size).toBe(1);
    const [delivery] = (await gw.core.outbox.listForNumber(gw.numberA, null, 10)).filter((e) => e.event === 'message.inbound');
    await until(async () => (await gw.core.outbox.get(delivery!.id))?.status === 'delivered', 5000, 'delivered');
    expect(await gw.core.outbox.get(delivery!.id)).toMatchObject({ attempts: 3, lastStatus: 200 });
  });

  it('dead-letters after the last attempt; an operator redelivers it', async () => {
    await start();
    receiver.answer = () => ({ status: 500 });
    gw.network!.text(SUBSCRIBER, '+15550000001', 'hello?');
    await receiver.waitFor(() => receiver.received.length === 3);
    const admin = { authorization: 'Bearer test-admin-token-0123456789' };
    const dead = await until(async () => {
      const res = (await (await fetch(`${gw.url}/admin/numbers/${gw.numberA}/deliveries?status=dead`, { headers: admin })).json()) as {
        deliveries: Array<{ id: string; lastStatus: number; attempts: number }>;
      };
      return res.deliveries.length === 1 && res.deliveries;
    });
    expect(dead[0]).toMatchObject({ lastStatus: 500, attempts: 3 });
    receiver.answer = () => ({ status: 200, body: { action: 'ignore' } });
    const redeliver = await fetch(`${gw.url}/admin/deliveries/${dead[0]!.id}/redeliver`, { method: 'POST', headers: admin });
    expect(redeliver.status).toBe(200);
    await until(async () => (await gw.core.outbox.get(dead[0]!.id))?.status === 'delivered', 5000, 'redelivered');
  });

  it('reports sent and delivered as signed message.status events; a failed report marks the message failed', async () => {
    await start();
    const ok = (await (await send(gw.numberA, { to: SUBSCRIBER, body: 'track me' })).json()) as { messageId: string };
    await receiver.waitFor(() => receiver.events('message.status').filter((h) => h.json.message_id === ok.messageId).length === 2);
    expect(receiver.events('message.status').map((h) => h.json.status)).toEqual(['sent', 'delivered']);
    const detail = (await (await gw.api(`/api/numbers/${gw.numberA}/messages/${ok.messageId}`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({ status: 'delivered', encoding: 'gsm7', segments: 1, error: null });
    expect(detail.parts).toEqual([expect.objectContaining({ seq: 1, status: 'delivered', report: { status: 0, at: expect.any(String) } })]);

    gw.network!.faults.reportStatus = 0x41;
    const bad = (await (await send(gw.numberA, { to: SUBSCRIBER, body: 'will fail' })).json()) as { messageId: string };
    await receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === bad.messageId && h.json.status === 'failed'));
    const failed = receiver.events('message.status').find((h) => h.json.status === 'failed')!;
    expect(failed.json.error).toEqual({ code: 'TP-ST 65', message: expect.any(String) });
  });

  it('keeps a +CMS send error and fails the message when it is permanent', async () => {
    await start();
    gw.network!.faults.rejectSubmits = { count: 1, code: 304 };
    const res = (await (await send(gw.numberA, { to: SUBSCRIBER, body: 'rejected' })).json()) as { messageId: string };
    await until(async () => (await gw.core.messages.get(res.messageId))?.status === 'failed', 10_000, 'failed');
    const m = (await gw.core.messages.get(res.messageId))!;
    expect(m.errorMessage).toMatch(/304/);
  });

  it('validates every field with a 400 that names it', async () => {
    await start();
    const cases: Array<[unknown, RegExp]> = [
      [{ body: 'x' }, /body\.to: required/],
      [{ to: 5, body: 'x' }, /body\.to: /],
      [{ to: '5559876543', body: 'x' }, /^to: must start with \+/],
      [{ to: '+1555', body: 'x' }, /^to: .* not a possible phone number/],
      [{ to: SUBSCRIBER }, /^body: required/],
      [{ to: SUBSCRIBER, body: '' }, /^body: required/],
      // Virtual lines carry MMS now (test/mms covers a line without it); a bad URL is still a 400.
      [{ to: SUBSCRIBER, body: 'x', media: ['ftp://example.com/a.png'] }, /^media\[0\]: must be an http\(s\) URL/],
      [{ to: SUBSCRIBER, body: 'y'.repeat(153 * 10 + 1) }, /^body: .*10/],
    ];
    for (const [body, message] of cases) {
      const res = await send(gw.numberA, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const json = (await res.json()) as { error: string; message: string };
      expect(json.error).toBe('Bad Request');
      expect(json.message).toMatch(message);
    }
    expect(await gw.core.messages.list(gw.numberA, { limit: 10 })).toHaveLength(0);
    const formatted = (await (await send(gw.numberA, { to: '+1 (555) 765-4321', body: 'formatted' })).json()) as { to: string };
    expect(formatted.to).toBe(SUBSCRIBER);
  });

  it('replays an Idempotency-Key instead of sending twice', async () => {
    await start();
    const headers = { 'idempotency-key': 'order-42' };
    const first = await send(gw.numberA, { to: SUBSCRIBER, body: 'once' }, headers);
    const again = await send(gw.numberA, { to: SUBSCRIBER, body: 'once' }, headers);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    const other = await send(gw.numberA, { to: SUBSCRIBER, body: 'different' }, headers);
    expect(other.status).toBe(400);
    expect(((await other.json()) as { message: string }).message).toMatch(/Idempotency-Key/);
    expect(await gw.core.messages.list(gw.numberA, { limit: 10 })).toHaveLength(1);
  });

  it('refuses a send past the included segments with 429 Quota Exceeded; overage lets it through and bills it', async () => {
    await start({ metering: { includedSegments: 3 } });
    expect((await send(gw.numberA, { to: SUBSCRIBER, body: 'z'.repeat(300) })).status).toBe(200);
    const over = await send(gw.numberA, { to: SUBSCRIBER, body: 'z'.repeat(200) });
    expect(over.status).toBe(429);
    expect(((await over.json()) as { error: string }).error).toBe('Quota Exceeded');
    await gw.core.numbers.setOverage(gw.numberA, true);
    expect((await send(gw.numberA, { to: SUBSCRIBER, body: 'z'.repeat(200) })).status).toBe(200);
    const usage = (await (await gw.api(`/api/numbers/${gw.numberA}/usage`)).json()) as Record<string, Record<string, number>>;
    expect(usage.sms).toMatchObject({ included: 3, used: 4, outbound: 4, overage: 1, overageRate: 0.015, overageCost: 0.02 });
    expect(usage.total).toBe(29.02);
    expect((await gw.api(`/api/numbers/${gw.numberA}/usage?month=2026-13`)).status).toBe(400);
  });

  it('rate-limits a key with 429 and Retry-After', async () => {
    await start({ rateLimit: { requestsPerSecond: 0.5, burst: 2 } });
    expect((await gw.api('/api/numbers')).status).toBe(200);
    expect((await gw.api('/api/numbers')).status).toBe(200);
    const limited = await gw.api('/api/numbers');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(((await limited.json()) as { error: string }).error).toBe('Too Many Requests');
  });

  it('gives revoked keys the exact 401 and out-of-scope numbers a 404', async () => {
    await start();
    const scoped = await gw.core.apiKeys.create({ numberIds: [gw.numberB] });
    const res = await fetch(`${gw.url}/api/numbers/${gw.numberA}/send/sms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scoped.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: SUBSCRIBER, body: 'x' }),
    });
    expect(res.status).toBe(404);
    await gw.core.apiKeys.revoke(scoped.id);
    const revoked = await fetch(`${gw.url}/api/numbers/${gw.numberB}/messages`, { headers: { authorization: `Bearer ${scoped.key}` } });
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toEqual({ error: 'Unauthorized', message: 'Invalid or missing API key' });
  });

  it('pages the message list newest first with filters', async () => {
    await start();
    for (let i = 0; i < 5; i++) expect((await send(gw.numberA, { to: SUBSCRIBER, body: `m${i}` })).status).toBe(200);
    const page1 = (await (await gw.api(`/api/numbers/${gw.numberA}/messages?limit=2`)).json()) as { messages: Array<{ body: string }>; nextCursor: string };
    expect(page1.messages.map((m) => m.body)).toEqual(['m4', 'm3']);
    const page2 = (await (await gw.api(`/api/numbers/${gw.numberA}/messages?limit=2&cursor=${page1.nextCursor}`)).json()) as {
      messages: Array<{ body: string }>;
    };
    expect(page2.messages.map((m) => m.body)).toEqual(['m2', 'm1']);
    const none = (await (await gw.api(`/api/numbers/${gw.numberA}/messages?contact=%2B15550009999`)).json()) as { messages: unknown[] };
    expect(none.messages).toEqual([]);
    expect((await gw.api(`/api/numbers/${gw.numberA}/messages?cursor=garbage`)).status).toBe(400);
    expect((await gw.api(`/api/numbers/${gw.numberA}/messages/msg_nope`)).status).toBe(404);
  });
});
