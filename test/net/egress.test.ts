import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { egressCheck } from '../../src/cli/doctor/egress.ts';
import { testExtraConnect, validateConfig } from '../../src/config/index.ts';
import { createLogger, silentLogger } from '../../src/logging/index.ts';
import { fetchMedia, HttpMmscClient, MediaError } from '../../src/mms/index.ts';
import { createEgress, describeEgressPolicy, EgressPolicy, EgressRefusedError } from '../../src/net/index.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { startTestGateway } from '../helpers/test-gateway.ts';
import { until } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const config = (raw: Record<string, unknown> = {}) => validateConfig({ dataDir: '/tmp/unused', ...raw });

describe('EgressPolicy', () => {
  it('allows, in default mode, what the config names, listed ranges, and public addresses for media, webhooks and the MMSC only', () => {
    const p = new EgressPolicy(
      config({
        upstreams: [{ model: 'm', baseUrl: 'http://10.0.0.5:8000/v1', upstreamModel: 'x' }],
        egress: { sip: ['192.0.2.0/24'] },
        voice: { drachtio: { host: 'drachtio.internal', secret: 's' } },
      }),
    );
    expect(p.permits('upstreams', '10.0.0.5', '10.0.0.5')).toBe(true);
    expect(p.permits('upstreams', 'engine.example', '8.8.8.8')).toBe(false);
    expect(p.permits('sip', 'drachtio.internal', '10.9.9.9')).toBe(true);
    expect(p.permits('sip', 'x', '192.0.2.77')).toBe(true);
    expect(p.permits('media', 'cdn.example', '93.184.216.34')).toBe(true);
    expect(p.permits('media', 'cdn.example', '127.0.0.1')).toBe(false);
    expect(p.permits('webhooks', 'agent.example', '93.184.216.34')).toBe(true);
    expect(p.permits('webhooks', 'agent.local', '10.1.1.1')).toBe(false);
    expect(p.permits('webhooks', 'agent.local', '10.1.1.1', { operatorSet: true })).toBe(true);
    expect(p.permits('mmsc', 'mms.carrier.example', '93.184.216.34')).toBe(true);
  });

  it('allows, in strict mode, only the hosts the config names or lists: no public addresses, no operator-set webhook hosts', () => {
    const p = new EgressPolicy(config({ egress: { mode: 'strict', webhooks: ['hooks.example'], media: ['203.0.113.0/24'] } }));
    expect(p.permits('webhooks', 'hooks.example', '93.184.216.34')).toBe(true);
    expect(p.permits('webhooks', 'other.example', '93.184.216.34', { operatorSet: true })).toBe(false);
    expect(p.permits('media', 'cdn.example', '93.184.216.34')).toBe(false);
    expect(p.permits('media', 'x', '203.0.113.9')).toBe(true);
    expect(p.permits('media', 'x', '::ffff:203.0.113.9')).toBe(true);
    expect(p.permits('mmsc', 'mms.carrier.example', '93.184.216.34')).toBe(false);
  });

  it('agentphone doctor reports the effective policy, one ok line per purpose', async () => {
    const results = await egressCheck({ config: config({ egress: { mode: 'strict', upstreams: ['10.0.0.0/8'] }, upstreams: [] }), timeoutMs: 100 });
    expect(results.map((r) => `${r.status} ${r.name}: ${r.detail}`)).toEqual([
      'ok egress: mode: strict (only the hosts below)',
      'ok egress: webhooks: nothing listed',
      'ok egress: media: nothing listed',
      'ok egress: mmsc: 127.0.0.1',
      'ok egress: sip: nothing listed',
      'ok egress: upstreams: 10.0.0.0/8',
    ]);
  });

  it('describes the effective policy one line per purpose', () => {
    const lines = describeEgressPolicy(config({ egress: { mode: 'strict', webhooks: ['hooks.example'] }, modems: [{ id: 'm1', port: '/dev/ttyUSB2', mms: { mmsc: 'http://mmsc.carrier.example/mms', proxy: '10.0.0.1:8080' } }] }));
    expect(lines[0]).toBe('mode: strict (only the hosts below)');
    expect(lines).toContain('webhooks: hooks.example');
    expect(lines).toContain('mmsc: mmsc.carrier.example, 10.0.0.1');
    expect(lines).toContain('media: nothing listed');
    expect(describeEgressPolicy(config())).toContain('media: nothing listed; plus public addresses');
  });
});

describe('AGENTPHONE_TEST_EXTRA_CONNECT', () => {
  it('is honoured only with NODE_ENV=test', () => {
    expect(testExtraConnect({ NODE_ENV: 'test', AGENTPHONE_TEST_EXTRA_CONNECT: '203.0.113.9:443' })).toEqual({ host: '203.0.113.9', port: 443 });
    expect(testExtraConnect({ NODE_ENV: 'production', AGENTPHONE_TEST_EXTRA_CONNECT: '203.0.113.9:443' })).toBeUndefined();
    expect(testExtraConnect({ AGENTPHONE_TEST_EXTRA_CONNECT: '203.0.113.9:443' })).toBeUndefined();
  });
});

describe('egress fetch (real loopback server)', () => {
  const tempDir = useTempDir();
  let server: Server;
  let port: number;
  const hits: string[] = [];
  beforeEach(async () => {
    hits.length = 0;
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('connects where the policy allows and answers as fetch does', async () => {
    const egress = createEgress(config({ egress: { upstreams: ['127.0.0.1'] } }), silentLogger());
    const res = await egress.fetch('upstreams')(`http://127.0.0.1:${port}/v1/x`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(hits).toEqual(['/v1/x']);
  });

  it('streams the body as it arrives, and an abort closes the connection mid-body', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    server.removeAllListeners('request');
    server.on('request', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      res.on('close', () => closed());
    });
    const egress = createEgress(config({ egress: { upstreams: ['127.0.0.1'] } }), silentLogger());
    const abort = new AbortController();
    const res = await egress.fetch('upstreams')(`http://127.0.0.1:${port}/v1/stream`, { method: 'POST', body: '{}', signal: abort.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
    abort.abort();
    await serverSawClose;
    await expect(reader.read()).rejects.toThrow();
  });

  it('refuses a name whose resolved address is not allowed (checked on the address connected to), before any byte is sent', async () => {
    // "localhost" resolves to loopback: public-only media must not reach it, whatever the name says.
    const egress = createEgress(config(), silentLogger());
    const err = await egress.fetch('media')(`http://localhost:${port}/secret`, { method: 'GET' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EgressRefusedError);
    expect((err as EgressRefusedError).purpose).toBe('media');
    expect((err as Error).message).toContain('localhost');
    expect(hits).toEqual([]);
  });

  it('gates media fetches: strict mode refuses a media URL not listed (MEDIA_FORBIDDEN_ADDRESS), listing it lets it through', async () => {
    const dir = tempDir();
    const limits = { maxFileBytes: 1024, timeoutMs: 5000, maxRedirects: 0 };
    const strict = createEgress(config({ egress: { mode: 'strict' }, media: { allowPrivateHosts: [] } }), silentLogger());
    const err = await fetchMedia(`http://127.0.0.1:${port}/a.txt`, 0, limits, strict.gate('media'), { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('MEDIA_FORBIDDEN_ADDRESS');
    expect(hits).toEqual([]);
    const listed = createEgress(config({ egress: { mode: 'strict', media: ['127.0.0.0/8'] } }), silentLogger());
    const fetched = await fetchMedia(`http://127.0.0.1:${port}/a.txt`, 0, limits, listed.gate('media'), { dir });
    expect(fetched.contentType).toBe('text/plain');
    expect(hits).toEqual(['/a.txt']);
  });

  it('logs a refusal with its purpose, host and address, never the path, query or body', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const egress = createEgress(config({ egress: { mode: 'strict' } }), logger);
    await egress.fetch('webhooks')(`http://localhost:${port}/hook/secret-path?token=s3cret`, { method: 'POST', body: 'message text' }).catch(() => undefined);
    const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'outbound connection refused by the egress policy');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ level: 40, mod: 'egress', purpose: 'webhooks', host: 'localhost', mode: 'strict' });
    expect(lines.join('')).not.toMatch(/secret-path|s3cret|message text/);
  });

  it("limits an MMS content location (from a WAP push anyone can send) to the MMSC's host or public addresses", async () => {
    const client = new HttpMmscClient({ mmsc: `http://127.0.0.1:${port}/mms`, timeoutMs: 2000, retries: 0 });
    const err = await client.retrieve(`http://127.0.0.2:${port}/internal`).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('MMSC_REFUSED');
    expect((err as Error).message).toContain('egress policy does not allow MMSC connections to 127.0.0.2');
    expect(hits).toEqual([]);
    // The MMSC's own host is reached (the answer is no m-retrieve-conf, which is a different error).
    const other = await client.retrieve(`http://127.0.0.1:${port}/msg/1`).catch((e: unknown) => e);
    expect((other as { code?: string }).code).toBe('MMSC_BAD_RESPONSE');
    expect(hits).toEqual(['/msg/1']);
  });

  it('refuses an IP literal outside the policy at once', async () => {
    const egress = createEgress(config({ egress: { mode: 'strict' } }), silentLogger());
    const err = await egress.fetch('webhooks', { operatorSet: true })(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EgressRefusedError);
    expect(hits).toEqual([]);
  });
});

describe('egress policy in a running gateway', () => {
  const tempDir = useTempDir();
  let receiver: WebhookReceiver;
  let gw: Awaited<ReturnType<typeof startTestGateway>> | undefined;
  beforeEach(async () => {
    receiver = new WebhookReceiver();
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await receiver.stop();
  });

  it('in strict mode fails a webhook to an unlisted host with the reason, and delivers to a listed one', async () => {
    const url = await receiver.start();
    gw = await startTestGateway(tempDir(), { egress: { mode: 'strict' } });
    await gw.core.numbers.setWebhook(gw.numberA, { url });
    const refused = await gw.core.webhooks.sendTest(gw.numberA, '+15550000001');
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/egress policy does not allow webhooks connections to 127\.0\.0\.1/);
    gw.network!.text('+15557654321', '+15550000001', 'hello');
    const failed = await until(
      () => gw!.core.db.prepare<[], { last_error: string | null }>(`SELECT last_error FROM outbox WHERE event = 'message.inbound' AND last_error IS NOT NULL`).get(),
      15_000,
      'a failed inbound delivery',
    );
    expect(failed.last_error).toMatch(/egress policy/);
    expect(receiver.received).toHaveLength(0);
    await gw.stop();

    gw = await startTestGateway(tempDir(), { egress: { mode: 'strict', webhooks: ['127.0.0.1'] } });
    await gw.core.numbers.setWebhook(gw.numberA, { url });
    const ok = await gw.core.webhooks.sendTest(gw.numberA, '+15550000001');
    expect(ok.status).toBe(200);
    expect(receiver.received).toHaveLength(1);
  });
});
