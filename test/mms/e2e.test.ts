import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { MediaServer, noisePng, smallJpeg } from './media-server.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';
const LINE_A = '+15550000001';
const LINE_B = '+15550000002';

describe('MMS end to end (virtual modems on PTYs, virtual MMSC, loopback media and webhooks)', () => {
  const tempDir = useTempDir();
  let gw: TestGateway;
  let receiver: WebhookReceiver;
  let hookUrl: string;
  let media: MediaServer;

  beforeEach(async () => {
    receiver = new WebhookReceiver();
    hookUrl = await receiver.start();
    media = new MediaServer();
    await media.start();
  });
  afterEach(async () => {
    await gw?.stop();
    await receiver.stop();
    await media.stop();
  });

  async function start(overrides: Record<string, unknown> = {}) {
    gw = await startTestGateway(tempDir(), { media: { allowPrivateHosts: ['127.0.0.1'] }, ...overrides });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
    await gw.core.numbers.setWebhook(gw.numberB, { url: hookUrl });
    return gw;
  }

  const send = (numberId: string, body: unknown) => gw.api(`/api/numbers/${numberId}/send/sms`, { method: 'POST', body: JSON.stringify(body) });
  const inbound = () => receiver.events('message.inbound').map((h) => h.json as { channel: string; from: string; to: string; body: string; media: string[] });
  const mmsInbox = (phone: string, n = 1) =>
    until(() => {
      const inbox = gw.mms.mmsc!.inbox(phone);
      return inbox.length >= n && inbox;
    }, 20_000, `${n} MMS in ${phone}'s inbox`);

  it("delivers a subscriber's MMS as one signed webhook whose media URLs serve the bytes sent", async () => {
    await start();
    const jpeg = await smallJpeg();
    const vcard = new TextEncoder().encode('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nEND:VCARD\r\n');
    gw.mms.mmsc!.subscriberSend(SUBSCRIBER, LINE_A, 'Here is the photo 📷', [
      { contentType: 'image/jpeg', name: 'photo.jpg', data: jpeg },
      { contentType: 'text/vcard', name: 'ada.vcf', data: vcard },
    ]);
    await receiver.waitFor(() => inbound().length === 1, 20_000);
    const [hook] = receiver.events('message.inbound');
    expect(Object.keys(hook!.json)).toEqual(['event', 'channel', 'from', 'to', 'body', 'media', 'timestamp', 'message_id', 'signature']);
    const payload = inbound()[0]!;
    expect(payload).toMatchObject({ channel: 'mms', from: SUBSCRIBER, to: LINE_A, body: 'Here is the photo 📷' });
    expect(payload.media).toHaveLength(2);
    for (const url of payload.media) expect(url).toMatch(new RegExp(`^${gw.url}/media/[0-9A-Za-z]{16,}$`));
    const [img, card] = await Promise.all(payload.media.map((u) => fetch(u)));
    expect(img!.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await img!.arrayBuffer()).equals(Buffer.from(jpeg))).toBe(true);
    expect(card!.headers.get('content-type')).toBe('text/vcard');
    expect(Buffer.from(await card!.arrayBuffer()).equals(Buffer.from(vcard))).toBe(true);
    // Stored once, listed with its channel; an unknown media id is a 404 in the error shape.
    const listed = (await (await gw.api(`/api/numbers/${gw.numberA}/messages?direction=inbound`)).json()) as { messages: { channel: string; media: string[] }[] };
    expect(listed.messages[0]).toMatchObject({ channel: 'mms', media: payload.media });
    const missing = await fetch(`${gw.url}/media/doesNotExist123`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not Found', message: expect.any(String) });
  });

  it('sends an agent MMS to a subscriber: media fetched, status queued → sent → delivered with events', async () => {
    await start();
    const jpeg = await smallJpeg();
    const url = media.add('/photo.jpg', 'image/jpeg', jpeg);
    const res = await send(gw.numberA, { to: SUBSCRIBER, body: 'Check out this image', media: [url] });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { messageId: string };
    expect(json).toEqual({ messageId: expect.stringMatching(/^msg_/), status: 'queued', to: SUBSCRIBER, body: 'Check out this image' });
    const [got] = await mmsInbox(SUBSCRIBER);
    expect(got).toMatchObject({ from: LINE_A, text: 'Check out this image' });
    expect(got!.media).toHaveLength(1);
    expect(got!.media[0]!.contentType).toBe('image/jpeg');
    expect(Buffer.from(got!.media[0]!.data).equals(Buffer.from(jpeg))).toBe(true);
    await receiver.waitFor(() => receiver.events('message.status').filter((h) => h.json.message_id === json.messageId).length === 2, 20_000);
    const statuses = receiver.events('message.status').filter((h) => h.json.message_id === json.messageId).map((h) => [h.json.status, h.json.channel]);
    expect(statuses).toEqual([['sent', 'mms'], ['delivered', 'mms']]);
  });

  it('carries an MMS from one line to the other: m-send-req, WAP push, m-retrieve-conf, webhook', async () => {
    await start();
    const gif = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } }).gif().toBuffer());
    const url = media.add('/dot', 'image/gif', gif);
    const res = await send(gw.numberA, { to: LINE_B, body: 'line to line', media: [url] });
    expect(res.status).toBe(200);
    await receiver.waitFor(() => inbound().some((p) => p.to === LINE_B), 20_000);
    const payload = inbound().find((p) => p.to === LINE_B)!;
    expect(payload).toMatchObject({ channel: 'mms', from: LINE_A, body: 'line to line' });
    const bytes = Buffer.from(await (await fetch(payload.media[0]!)).arrayBuffer());
    expect(bytes.equals(Buffer.from(gif))).toBe(true);
  });

  it('sends an inline webhook reply with media as an MMS', async () => {
    await start();
    const jpeg = await smallJpeg();
    const url = media.add('/reply.jpg', 'image/jpeg', jpeg);
    receiver.answer = (hook) => (hook.json.event === 'message.inbound' ? { status: 200, body: { action: 'respond', reply: 'Here you go', media: [url] } } : { status: 200, body: { action: 'ignore' } });
    gw.network!.text(SUBSCRIBER, LINE_A, 'send me a picture');
    const [got] = await mmsInbox(SUBSCRIBER);
    expect(got).toMatchObject({ from: LINE_A, text: 'Here you go' });
    expect(Buffer.from(got!.media[0]!.data).equals(Buffer.from(jpeg))).toBe(true);
  });

  it.each(['quectel', 'simcom'])("sends through the %s modem's own MMS client (mmsTransport at): the subscriber gets it and it reports sent", async (dialect) => {
    await start({ virtual: { lines: [{ id: 'virtual-1', number: LINE_A, dialect, mmsTransport: 'at' }, { id: 'virtual-2', number: LINE_B, dialect: 'huawei' }] } });
    const jpeg = await smallJpeg();
    const res = await send(gw.numberA, { to: SUBSCRIBER, body: 'over AT', media: [media.add('/p.jpg', 'image/jpeg', jpeg)] });
    const { messageId } = (await res.json()) as { messageId: string };
    const [got] = await mmsInbox(SUBSCRIBER);
    expect(got).toMatchObject({ from: LINE_A, text: 'over AT' });
    expect(Buffer.from(got!.media[0]!.data).equals(Buffer.from(jpeg))).toBe(true);
    await receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === messageId && h.json.status === 'sent'), 20_000);
  });

  it('shrinks an image over the line limit instead of refusing it', async () => {
    await start({ virtual: { mms: { maxMessageBytes: 100_000 } } });
    const big = await noisePng(900, 700);
    expect(big.length).toBeGreaterThan(1_000_000);
    const url = media.add('/big.png', 'image/png', big);
    await send(gw.numberA, { to: SUBSCRIBER, body: 'big', media: [url] });
    const [got] = await mmsInbox(SUBSCRIBER);
    const part = got!.media[0]!;
    expect(part.contentType).toBe('image/jpeg');
    expect(part.data.length).toBeLessThan(100_000);
    const meta = await sharp(part.data).metadata();
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(1600);
  });

  it('fails the message with the reason when a media URL points at a private address (no allowlist)', async () => {
    await start({ media: { allowPrivateHosts: [] } });
    const url = media.add('/secret.jpg', 'image/jpeg', await smallJpeg());
    const res = await send(gw.numberA, { to: SUBSCRIBER, media: [url] });
    const { messageId } = (await res.json()) as { messageId: string };
    await receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === messageId), 20_000);
    const event = receiver.events('message.status').find((h) => h.json.message_id === messageId)!.json as { status: string; error: { code: string; message: string } };
    expect(event.status).toBe('failed');
    expect(event.error.code).toBe('MEDIA_FORBIDDEN_ADDRESS');
    expect(gw.mms.mmsc!.inbox(SUBSCRIBER)).toEqual([]);
  });

  it('fails a media type MMS cannot carry, and refuses media on a line without MMS', async () => {
    await start();
    const url = media.add('/page.html', 'text/html', new TextEncoder().encode('<html></html>'));
    const { messageId } = (await (await send(gw.numberA, { to: SUBSCRIBER, media: [url] })).json()) as { messageId: string };
    await receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === messageId), 20_000);
    expect(receiver.events('message.status').find((h) => h.json.message_id === messageId)!.json).toMatchObject({ status: 'failed', error: { code: 'MEDIA_TYPE' } });
    await gw.stop();
    await start({ virtual: { mms: { enabled: false } } });
    const res = await send(gw.numberA, { to: SUBSCRIBER, body: 'x', media: [url] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/no MMS configured/);
  });
});
