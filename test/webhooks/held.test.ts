import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';
const ADMIN = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };

describe('webhook events for a number without a URL are held, then delivered in order', () => {
  const tempDir = useTempDir();
  let gw: TestGateway | undefined;
  let receiver: WebhookReceiver;

  beforeEach(() => {
    receiver = new WebhookReceiver();
  });

  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
  });

  async function deliveries(numberId: string, status?: string) {
    const q = status ? `?status=${status}` : '';
    const res = await fetch(`${gw!.url}/admin/numbers/${numberId}/deliveries${q}`, { headers: ADMIN });
    return ((await res.json()) as { deliveries: Array<{ id: string; status: string; event: string; attempts: number }> }).deliveries;
  }

  it('holds texts that arrive before the URL is set and sends each once, oldest first, when the admin API sets it', async () => {
    gw = await startTestGateway(tempDir());
    const hookUrl = await receiver.start();
    const bodies = ['first', 'second', 'third'];
    for (const [i, body] of bodies.entries()) {
      gw.network!.text(SUBSCRIBER, '+15550000001', body);
      // One at a time, so the store's order is the order they were sent in.
      await until(async () => (await deliveries(gw!.numberA, 'held')).length === i + 1, 15_000, `${i + 1} held`);
    }
    const held = await deliveries(gw.numberA, 'held');
    expect(held.every((d) => d.event === 'message.inbound' && d.attempts === 0)).toBe(true);
    expect(await deliveries(gw.numberA, 'dead')).toEqual([]);
    // The dashboard's overview counts them apart from failures.
    const overview = async () => ((await (await fetch(`${gw!.url}/admin/dashboard/overview`, { headers: ADMIN })).json()) as { webhooks: Record<string, number> }).webhooks;
    expect(await overview()).toEqual({ dead: 0, retrying: 0, held: 3 });

    const put = await fetch(`${gw.url}/admin/numbers/${gw.numberA}/webhook`, { method: 'PUT', headers: ADMIN, body: JSON.stringify({ url: hookUrl }) });
    expect(put.status).toBe(200);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 3);
    await until(async () => (await deliveries(gw!.numberA)).every((d) => d.status === 'delivered'), 5000, 'all delivered');
    expect(receiver.events('message.inbound').map((h) => h.json.body)).toEqual(bodies);
    expect(new Set(receiver.received.map((h) => h.headers['x-agentphone-delivery'])).size).toBe(receiver.received.length);
    expect(await deliveries(gw.numberA, 'held')).toEqual([]);
    expect(await overview()).toEqual({ dead: 0, retrying: 0, held: 0 });
  });

  it('releases events held before a restart once the URL is there at start', async () => {
    const dir = tempDir();
    gw = await startTestGateway(dir);
    gw.network!.text(SUBSCRIBER, '+15550000001', 'while nobody listened');
    await until(async () => (await deliveries(gw!.numberA, 'held')).length === 1, 15_000, 'held');
    const numberA = gw.numberA;
    await gw.stop();
    const hookUrl = await receiver.start();
    // The URL arrives with the config file this time (lineFound applies it at start).
    gw = await startTestGateway(dir, { numbers: [{ line: 'virtual-1', webhookUrl: hookUrl }] });
    expect(gw.numberA).toBe(numberA);
    await receiver.waitFor(() => receiver.events('message.inbound').length === 1);
    expect(receiver.events('message.inbound')[0]!.json.body).toBe('while nobody listened');
  });
});
