import { afterEach, describe, expect, it } from 'vitest';
import { FAVICON_SVG, LOGO_SVG } from '../../src/dashboard/index.ts';
import { MediaServer, smallJpeg } from '../mms/media-server.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const SUBSCRIBER = '+15557654321';

interface MessageRow {
  id: string;
  direction: string;
  channel: string;
  status: string;
  error: { code: string; message: string } | null;
}

describe("the dashboard's marks and the admin fields its pages use (real gateway on loopback, virtual lines)", () => {
  const tempDir = useTempDir();
  let gw: TestGateway | undefined;
  let receiver: WebhookReceiver | undefined;
  let media: MediaServer | undefined;
  afterEach(async () => {
    await gw?.stop();
    await receiver?.stop();
    await media?.stop();
    gw = receiver = media = undefined;
  });

  const admin = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${gw!.url}/admin${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  it('serves a favicon at /favicon.ico and /favicon.svg, and the pages link it', async () => {
    gw = await startTestGateway(tempDir());
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
      expect(await res.text()).toBe(FAVICON_SVG);
    }
    // The dashboard's page (built or the "not built" notice) names it.
    const page = await (await fetch(`${gw.url}/`)).text();
    expect(page).toMatch(/<link rel="icon" href="\/favicon\.svg" type="image\/svg\+xml"/);
  });

  it("shows the product's logo, title and favicon in Swagger UI at /docs, not fastify's", async () => {
    gw = await startTestGateway(tempDir());
    const html = await (await fetch(`${gw.url}/docs`)).text();
    expect(html).toContain('<title>AgentPhone API</title>');
    expect(html).toMatch(/<link rel="icon" type="image\/svg\+xml" href="[^"]*\/static\/theme\/favicon\.svg"/);
    expect(html).not.toMatch(/favicon-32x32\.png/);
    const init = await (await fetch(`${gw.url}/docs/static/swagger-initializer.js`)).text();
    expect(init).toContain(`data:image/svg+xml;base64,${Buffer.from(LOGO_SVG).toString('base64')}`);
    const icon = await fetch(`${gw.url}/docs/static/theme/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(await icon.text()).toBe(FAVICON_SVG);
  });

  it('lists messages with their channel and failure reason, and marks only dead or failing deliveries redeliverable', async () => {
    receiver = new WebhookReceiver();
    const hookUrl = await receiver.start();
    // This endpoint refuses the event for the text that says so: that delivery ends dead.
    receiver.answer = (hook) => (hook.json.body === 'make it fail' ? { status: 500 } : { status: 200, body: { action: 'ignore' } });
    media = new MediaServer();
    await media.start();
    // No private-address allowlist: the MMS's media URL on loopback is refused, and the message fails with the reason.
    gw = await startTestGateway(tempDir(), { media: { allowPrivateHosts: [] } });
    const g = gw;
    await g.core.numbers.setWebhook(g.numberA, { url: hookUrl });
    const sent = await g.api(`/api/numbers/${g.numberA}/send/sms`, {
      method: 'POST',
      body: JSON.stringify({ to: SUBSCRIBER, body: 'see this', media: [media.add('/p.jpg', 'image/jpeg', await smallJpeg())] }),
    });
    const { messageId } = (await sent.json()) as { messageId: string };
    g.network!.text(SUBSCRIBER, '+15550000001', 'all good');
    g.network!.text(SUBSCRIBER, '+15550000001', 'make it fail');

    await until(async () => (await g.core.messages.get(messageId))?.status === 'failed', 20_000, 'the MMS failed');
    const { messages } = await admin<{ messages: MessageRow[] }>(`/messages?numberId=${g.numberA}`);
    const mms = messages.find((m) => m.id === messageId)!;
    expect(mms).toMatchObject({ channel: 'mms', status: 'failed', error: { code: 'MEDIA_FORBIDDEN_ADDRESS', message: expect.stringMatching(/.+/) } });

    type Delivery = { event: string; status: string; attempts: number; redeliverable: boolean; messageId: string | null };
    const deliveries = () => admin<{ deliveries: Delivery[] }>(`/numbers/${g.numberA}/deliveries?limit=50`);
    let list: Delivery[] = [];
    await until(
      async () => {
        list = (await deliveries()).deliveries;
        return list.some((d) => d.status === 'dead') && list.some((d) => d.status === 'delivered');
      },
      20_000,
      'one dead and one delivered delivery',
    );
    for (const d of list) expect(d.redeliverable, `${d.event} ${d.status} after ${d.attempts} attempts`).toBe(d.status === 'dead' || (d.status === 'pending' && d.attempts > 0));
    expect(list.find((d) => d.status === 'dead')!.redeliverable).toBe(true);
    expect(list.filter((d) => d.status === 'delivered').every((d) => !d.redeliverable)).toBe(true);
    // The message's own page lists the same deliveries, with the same field.
    const detail = await admin<{ message: MessageRow; deliveries: Delivery[] }>(`/messages/${messageId}`);
    expect(detail.message.channel).toBe('mms');
    expect(detail.deliveries.every((d) => typeof d.redeliverable === 'boolean')).toBe(true);
  });
});
