import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { composeSendReq, decodeMms, encodeMms, HttpMmscClient, MmscError } from '../../src/mms/index.ts';

const sendReq = () =>
  composeSendReq({ to: ['+15559876543'], text: 'hi', media: [{ contentType: 'image/jpeg', name: 'a.jpg', data: new Uint8Array([0xff, 0xd8, 0xff, 1, 2]) }], transactionId: 'tx-9' });
const sendConf = encodeMms({ type: 'm-send-conf', transactionId: 'tx-9', version: '1.2', responseStatus: 128, messageId: 'M1' });

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

describe('HttpMmscClient', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  async function serve(handler: Handler): Promise<{ url: string; port: number; seen: { method: string; url: string; host: string; type: string }[] }> {
    const seen: { method: string; url: string; host: string; type: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', type: req.headers['content-type'] ?? '' });
        handler(req, Buffer.concat(chunks), res);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, port, seen };
  }

  it('POSTs m-send-req as application/vnd.wap.mms-message and reads the m-send-conf', async () => {
    const mmsc = await serve((_req, body, res) => {
      expect(decodeMms(new Uint8Array(body))).toMatchObject({ type: 'm-send-req', from: null, to: ['+15559876543/TYPE=PLMN'] });
      res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message' }).end(sendConf);
    });
    const client = new HttpMmscClient({ mmsc: `${mmsc.url}/mms`, timeoutMs: 2000 });
    expect(await client.send(sendReq())).toEqual({ transactionId: 'tx-9', responseStatus: 128, messageId: 'M1' });
    expect(mmsc.seen[0]).toMatchObject({ method: 'POST', url: '/mms', type: 'application/vnd.wap.mms-message' });
  });

  it('goes through the MMS proxy with the absolute URL, as WAP gateways expect', async () => {
    const proxy = await serve((_req, _body, res) => res.writeHead(200).end(sendConf));
    const client = new HttpMmscClient({ mmsc: 'http://mmsc.carrier.example/mms/wapenc', proxy: `127.0.0.1:${proxy.port}`, timeoutMs: 2000 });
    await client.send(sendReq());
    expect(proxy.seen[0]).toMatchObject({ method: 'POST', url: 'http://mmsc.carrier.example/mms/wapenc', host: 'mmsc.carrier.example' });
  });

  it('retries a 5xx, then succeeds; a 413 is "too large" and not retried', async () => {
    let calls = 0;
    const flaky = await serve((_req, _body, res) => (++calls === 1 ? res.writeHead(503).end() : res.writeHead(200).end(sendConf)));
    await new HttpMmscClient({ mmsc: flaky.url, timeoutMs: 2000, retries: 2, retryDelayMs: 1 }).send(sendReq());
    expect(calls).toBe(2);
    const big = await serve((_req, _body, res) => res.writeHead(413).end());
    const err = await new HttpMmscClient({ mmsc: big.url, timeoutMs: 2000, retries: 2, retryDelayMs: 1 }).send(sendReq()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MmscError);
    expect(err).toMatchObject({ code: 'MMSC_TOO_LARGE', retryable: false });
    expect(big.seen).toHaveLength(1);
  });

  it('names the failure: timeout, unreachable, not an MMS answer, no bearer', async () => {
    const silent = await serve(() => undefined);
    await expect(new HttpMmscClient({ mmsc: silent.url, timeoutMs: 150, retries: 0 }).send(sendReq())).rejects.toMatchObject({ code: 'MMSC_TIMEOUT', retryable: true });
    const closed = await serve(() => undefined);
    const port = closed.port;
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    await expect(new HttpMmscClient({ mmsc: `http://127.0.0.1:${port}`, timeoutMs: 500, retries: 0 }).send(sendReq())).rejects.toMatchObject({ code: 'MMSC_UNREACHABLE' });
    const html = await serve((_req, _body, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
    await expect(new HttpMmscClient({ mmsc: html.url, timeoutMs: 500, retries: 0 }).send(sendReq())).rejects.toMatchObject({ code: 'MMSC_BAD_RESPONSE' });
    await expect(new HttpMmscClient({ mmsc: html.url, interface: 'wwan-does-not-exist', timeoutMs: 500, retries: 0 }).send(sendReq())).rejects.toMatchObject({ code: 'MMSC_NO_BEARER' });
  });

  it('GETs a content location and sends the notify response', async () => {
    const retrieveConf = encodeMms({ ...sendReq(), type: 'm-retrieve-conf', from: '+15551112222/TYPE=PLMN', messageId: 'X' });
    const mmsc = await serve((req, body, res) => {
      if (req.method === 'GET') return void res.writeHead(200).end(retrieveConf);
      expect(decodeMms(new Uint8Array(body))).toMatchObject({ type: 'm-notifyresp-ind', transactionId: 'T1', status: 'retrieved' });
      res.writeHead(204).end();
    });
    const client = new HttpMmscClient({ mmsc: `${mmsc.url}/mms`, timeoutMs: 2000 });
    expect(await client.retrieve(`${mmsc.url}/msg/1`)).toMatchObject({ type: 'm-retrieve-conf', messageId: 'X' });
    await client.notifyResponse('T1', 'retrieved');
    expect(mmsc.seen.map((s) => [s.method, s.url])).toEqual([['GET', '/msg/1'], ['POST', '/mms']]);
  });
});
