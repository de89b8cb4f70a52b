import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/ids/index.ts';
import { noisePng, smallJpeg } from '../mms/media-server.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;
const SUBSCRIBER = '+15557654321';
const LINE_A = '+15550000001';
const MiB = 1024 * 1024;
/** Written to a connection before its close is seen: the cap plus loopback buffers, far below the body. */
const NEAR_CAP = 24 * MiB;

const LIMITS = { maxFileBytes: 300_000, maxTotalBytes: 400_000, fetchesPerMessage: 2, fetchesPerGateway: 3 };

/**
 * Media URLs on loopback that count how many requests are open at once. A request is held
 * until as many are open as the limit under test (or, when fewer come, a couple of event-loop
 * turns), so a fetcher that opens more than the limit is seen doing it.
 */
class CountingMediaServer {
  open = 0;
  max = 0;
  holdUntil = Infinity;
  /** Bytes written per streamed path before the connection closed. */
  readonly streamed = new Map<string, Promise<number>>();
  jpeg: Uint8Array = new Uint8Array();
  png: Uint8Array = new Uint8Array();
  base = '';
  private held: Array<() => void> = [];
  private server: Server | undefined;

  async start(): Promise<void> {
    this.jpeg = await smallJpeg();
    this.png = await noisePng(260, 260);
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.open++;
      this.max = Math.max(this.max, this.open);
      res.on('close', () => this.open--);
      if (path.startsWith('/huge')) {
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        return void this.streamed.set(path, stream(res, 128 * MiB));
      }
      const data = path.startsWith('/big') ? this.png : this.jpeg;
      this.held.push(() => res.writeHead(200, { 'content-type': path.startsWith('/big') ? 'image/png' : 'image/jpeg', 'content-length': data.length }).end(data));
      if (this.open >= this.holdUntil) setImmediate(() => this.release());
      else setImmediate(() => setImmediate(() => this.release()));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(holdUntil: number): void {
    this.max = 0;
    this.holdUntil = holdUntil;
  }

  private release(): void {
    for (const send of this.held.splice(0)) send();
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Streams `total` bytes of a JPEG-looking body with backpressure; resolves with what was written before the socket closed. */
function stream(res: ServerResponse, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  chunk.set([0xff, 0xd8, 0xff, 0xe0]);
  let written = 0;
  return new Promise((resolve) => {
    res.on('close', () => resolve(written));
    const write = () => {
      while (written < total && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      res.end();
    };
    write();
  });
}

describe('media fetch limits (count, URL, bytes, concurrency)', () => {
  const media = new CountingMediaServer();
  const receiver = new WebhookReceiver();
  let gw: TestGateway;
  let dataDir = '';

  beforeAll(async () => {
    await media.start();
    const hookUrl = await receiver.start();
    dataDir = mkdtempSync(join(tmpdir(), 'agentphone-'));
    gw = await startTestGateway(dataDir, { media: { allowPrivateHosts: ['127.0.0.1'], ...LIMITS } });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
  }, 30_000);
  afterAll(async () => {
    await gw?.stop();
    await receiver.stop();
    await media.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (body: unknown) => gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify(body) });
  const urls = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${media.base}/${tag}-${i}.jpg`);
  const statusOf = (messageId: string) =>
    receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === messageId && h.json.status !== 'sent'), 30_000).then(
      () => receiver.events('message.status').find((h) => h.json.message_id === messageId && h.json.status !== 'sent')!.json as { status: string; error?: { code: string; message: string } },
    );
  async function refused(body: unknown, field: RegExp): Promise<void> {
    const res = await send(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; message: string };
    expect(json).toEqual({ error: 'Bad Request', message: expect.stringMatching(field) });
  }

  it('refuses more media URLs than media.maxPerMessage (10) with a 400 naming media', async () => {
    await refused({ to: SUBSCRIBER, body: 'x', media: urls(11, 'count') }, /^media: 11 URLs, more than the 10/);
    await refused({ to: SUBSCRIBER, body: 'x', media: urls(300, 'count') }, /^media: 300 URLs/);
    expect(media.max).toBe(0);
  });

  it('refuses a media URL longer than media.maxUrlLength (2048), up to one of 900 KB', async () => {
    await refused({ to: SUBSCRIBER, media: [`${media.base}/${'a'.repeat(2049)}.jpg`] }, /^media\[0\]: longer than 2048 characters/);
    await refused({ to: SUBSCRIBER, media: [`${media.base}/ok.jpg`, `https://example.com/${'a'.repeat(900 * 1024)}`] }, /^media\[1\]: longer than 2048/);
  });

  it('refuses a URL the WHATWG parser rejects (an IPv6 zone id) with a 400, as the fetcher would', async () => {
    await refused({ to: SUBSCRIBER, media: ['http://[fe80::1%25eth0]/a.png'] }, /^media\[0\]: must be an http\(s\) URL/);
    await refused({ to: SUBSCRIBER, media: ['http://exa mple.com/a.png'] }, /^media\[0\]/);
  });

  it('refuses too many or too long media URLs in an inline webhook reply: nothing is sent', async () => {
    const answers = [urls(11, 'reply'), [`${media.base}/${'b'.repeat(3000)}.jpg`], ['http://[fe80::1%25eth0]/a.png']];
    for (const mediaList of answers) {
      const before = receiver.events('message.inbound').length;
      receiver.answer = (hook) => (hook.json.event === 'message.inbound' ? { status: 200, body: { action: 'respond', reply: 'r', media: mediaList } } : { status: 200, body: { action: 'ignore' } });
      gw.network!.text(SUBSCRIBER, LINE_A, `send me pictures ${before}`);
      await receiver.waitFor(() => receiver.events('message.inbound').length > before, 20_000);
      const delivery = receiver.events('message.inbound')[before]!.headers['x-agentphone-delivery'] as string;
      await until(async () => (await gw.core.outbox.get(delivery))?.status === 'delivered', 10_000, 'the inbound event delivered');
      expect(await gw.core.messages.getByReplyTo(delivery)).toBeUndefined();
    }
    receiver.answer = () => ({ status: 200, body: { action: 'ignore' } });
    expect(media.max).toBe(0);
  });

  it('fetches one message’s URLs at most media.fetchesPerMessage (2) at a time', async () => {
    media.reset(LIMITS.fetchesPerMessage + 1);
    const res = await send({ to: SUBSCRIBER, body: 'ten', media: urls(10, 'one') });
    const { messageId } = (await res.json()) as { messageId: string };
    expect(await statusOf(messageId)).toMatchObject({ status: 'delivered' });
    expect(media.max).toBeGreaterThan(0);
    expect(media.max).toBeLessThanOrEqual(LIMITS.fetchesPerMessage);
  }, 40_000);

  it('fetches at most media.fetchesPerGateway (3) at a time across messages sent together', async () => {
    media.reset(LIMITS.fetchesPerGateway + 1);
    const ids = await Promise.all(
      [0, 1, 2, 3].map(async (m) => ((await (await send({ to: SUBSCRIBER, body: `m${m}`, media: urls(3, `many${m}`) })).json()) as { messageId: string }).messageId),
    );
    for (const id of ids) expect(await statusOf(id)).toMatchObject({ status: 'delivered' });
    expect(media.max).toBeGreaterThan(0);
    expect(media.max).toBeLessThanOrEqual(LIMITS.fetchesPerGateway);
  }, 60_000);

  it('fails a message whose media together pass media.maxTotalBytes, each file under its own limit', async () => {
    media.reset(Infinity);
    const res = await send({ to: SUBSCRIBER, media: [0, 1, 2].map((i) => `${media.base}/big-${i}.png`) });
    const { messageId } = (await res.json()) as { messageId: string };
    expect(media.png.length).toBeLessThan(LIMITS.maxFileBytes);
    expect(media.png.length * 3).toBeGreaterThan(LIMITS.maxTotalBytes);
    const event = await statusOf(messageId);
    expect(event).toMatchObject({ status: 'failed', error: { code: 'MEDIA_TOO_LARGE' } });
    expect(event.error!.message).toMatch(/together are over their 400000-byte limit/);
  }, 40_000);

  it('cuts a streamed endless body at the per-file cap: the server writes little more than the cap', async () => {
    const res = await send({ to: SUBSCRIBER, media: [`${media.base}/huge-1.jpg`] });
    const { messageId } = (await res.json()) as { messageId: string };
    expect(await statusOf(messageId)).toMatchObject({ status: 'failed', error: { code: 'MEDIA_TOO_LARGE' } });
    const written = await media.streamed.get('/huge-1.jpg')!;
    expect(written).toBeGreaterThan(LIMITS.maxFileBytes);
    expect(written).toBeLessThan(NEAR_CAP);
  }, 40_000);

  it('leaves no staged file behind in <dataDir>/media-fetch once sends are done', async () => {
    await until(() => readdirSync(join(dataDir, 'media-fetch')).length === 0, 10_000, 'staging dir empty');
  });
});

describe('a media task that fails in any way ends its message failed, with an event', () => {
  const receiver = new WebhookReceiver();
  const media = new CountingMediaServer();
  let dataDir = '';
  let gw: TestGateway;

  beforeAll(async () => {
    await media.start();
    const hookUrl = await receiver.start();
    dataDir = mkdtempSync(join(tmpdir(), 'agentphone-'));
    gw = await startTestGateway(dataDir, { media: { allowPrivateHosts: ['127.0.0.1'] } });
    await gw.core.numbers.setWebhook(gw.numberA, { url: hookUrl });
  }, 30_000);
  afterAll(async () => {
    await gw?.stop();
    await receiver.stop();
    await media.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const finalStatus = async (messageId: string) => {
    await receiver.waitFor(() => receiver.events('message.status').some((h) => h.json.message_id === messageId && h.json.status !== 'sent'), 30_000);
    return receiver.events('message.status').find((h) => h.json.message_id === messageId && h.json.status !== 'sent')!.json;
  };

  it('a stored message whose URL new URL() rejects (queued before the API checked) fails instead of staying sending', async () => {
    const id = newMessageId();
    const number = (await gw.core.numbers.list()).find((n) => n.id === gw.numberA)!;
    await gw.core.store.tx(async (tx) => {
      await gw.core.messages.on(tx).insert({
        id, numberId: number.id, direction: 'outbound', channel: 'mms', contact: SUBSCRIBER, body: 'old', media: ['http://[fe80::1%25eth0]/a.png'],
        status: 'queued', encoding: null, segments: 1, createdAt: new Date().toISOString(),
      });
      await gw.mms.service.queue(id, number.lineId!, tx);
    });
    gw.mms.service.notify();
    expect(await finalStatus(id)).toMatchObject({ status: 'failed', error: { code: 'MEDIA_FETCH_FAILED', message: expect.stringMatching(/^media\[0\]: is a malformed URL/) } });
    expect((await gw.core.messages.get(id))!.status).toBe('failed');
  });

  it('a file name with a malformed percent escape does not stop the send', async () => {
    const res = await gw.api(`/api/numbers/${gw.numberA}/send/sms`, { method: 'POST', body: JSON.stringify({ to: SUBSCRIBER, media: [`${media.base}/%E0%A4.jpg`] }) });
    const { messageId } = (await res.json()) as { messageId: string };
    expect(await finalStatus(messageId)).toMatchObject({ status: 'delivered' });
  });
});
