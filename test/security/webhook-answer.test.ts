import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchPost, parseWebhookReply } from '../../src/webhooks/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';

const MiB = 1024 * 1024;
const CAP = 256 * 1024;
/** What an agent could answer with; reading it whole would take this much memory. */
const HUGE = 128 * MiB;
/**
 * Bytes the server may get written before it sees the socket close: the cap plus what the
 * kernel's loopback buffers and the stream high-water marks hold, far below the whole body.
 */
const NEAR_CAP = 24 * MiB;

/** Streams `total` bytes (with backpressure) and reports how many it wrote before the socket closed. */
function streamTo(res: ServerResponse, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
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

describe('webhook answers are read only up to the cap', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  async function answering(headers: Record<string, string | number>, total: number): Promise<{ url: string; written: Promise<number> }> {
    let resolveWritten: (n: number) => void = () => undefined;
    const written = new Promise<number>((r) => (resolveWritten = r));
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        void streamTo(res, total).then(resolveWritten);
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, written };
  }

  const post = (url: string) => fetchPost({ url, body: Buffer.from('{}'), headers: { 'content-type': 'application/json' }, timeoutMs: 30_000 });

  it('stops reading an endless (chunked) answer at 256 KiB and closes the connection', async () => {
    const { url, written } = await answering({}, HUGE);
    const res = await post(url);
    expect(res.status).toBe(200);
    expect(res.truncated).toBe(true);
    expect(Buffer.byteLength(res.text)).toBe(CAP);
    const sent = await written;
    expect(sent).toBeLessThan(NEAR_CAP);
    expect(sent).toBeLessThan(HUGE);
  });

  it('reads nothing of an answer whose Content-Length is over the cap', async () => {
    const { url, written } = await answering({ 'content-length': HUGE }, HUGE);
    const res = await post(url);
    expect(res).toMatchObject({ status: 200, truncated: true, text: '' });
    expect(await written).toBeLessThan(NEAR_CAP);
  });

  it('reads an answer under the cap whole, as an inline reply', async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ action: 'respond', reply: 'hi' })));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const res = await post(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    expect(res.truncated).toBeUndefined();
    expect(parseWebhookReply(res.contentType, res.text)).toEqual({ action: 'respond', reply: 'hi', media: [] });
  });
});

describe('an inline reply over the cap is not acted on', () => {
  const tempDir = useTempDir();
  let server: Server | undefined;
  let gw: Awaited<ReturnType<typeof startTestGateway>> | undefined;
  afterEach(async () => {
    await gw?.stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('a valid respond padded past 256 KiB is delivered as ignore: no reply is sent', async () => {
    // Valid JSON whole: cut at the cap it would still parse, which is what must not count.
    const answer = `{"action":"respond","reply":"hi"}${' '.repeat(CAP)}`;
    const deliveries: string[] = [];
    server = createServer((req, res) => {
      deliveries.push(req.headers['x-agentphone-delivery'] as string);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    gw = await startTestGateway(tempDir());
    await gw.core.numbers.setWebhook(gw.numberA, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` });
    gw.network!.text('+15557654321', '+15550000001', 'hello');
    const delivery = await until(() => deliveries[0], 20_000, 'the inbound webhook');
    await until(async () => (await gw!.core.outbox.get(delivery))?.status === 'delivered', 10_000, 'the event delivered');
    expect(await gw.core.messages.getByReplyTo(delivery)).toBeUndefined();
  });
});
