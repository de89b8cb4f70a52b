import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig, type UpstreamConfig } from '../../../src/config/index.ts';
import { UnavailableError, ValidationError } from '../../../src/errors/index.ts';
import { ReplicaSet, UpstreamsExhaustedError } from '../../../src/inference/upstream/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { freePort } from '../../helpers/free-port.ts';

/** A loopback engine whose every POST gets the scripted answer; it counts what it was sent. */
async function engine(answer: (hits: number) => { status: number; body: string } | 'hang'): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer(++hits);
      if (a !== 'hang') res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, hits: () => hits, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

function replicaSet(urls: string[], extra: Partial<UpstreamConfig> = {}): ReplicaSet {
  const [config] = validateConfig({ upstreams: [{ model: 'm', baseUrl: urls[0], replicas: urls.slice(1), upstreamModel: 'x', healthIntervalMs: 0, ...extra }] }).upstreams;
  return new ReplicaSet(config as UpstreamConfig, { logger: silentLogger() });
}

const send = (set: ReplicaSet, signal = new AbortController().signal) =>
  set.send('/audio/transcriptions', { headers: { 'content-type': 'application/json' }, body: '{}' }, signal, async (res) => (await res.json()) as { text: string });

describe('ReplicaSet failover (loopback engines)', () => {
  it('retries a 5xx or a 429 on the next replica, and passes a 400 through without retrying', async () => {
    const failing = await engine((n) => (n === 1 ? { status: 500, body: '{"detail":"CUDA out of memory"}' } : { status: 429, body: '{}' }));
    const good = await engine(() => ({ status: 200, body: '{"text":"ok"}' }));
    servers.push(failing.server, good.server);
    const set = replicaSet([failing.url, good.url]);
    for (let i = 0; i < 2; i++) {
      const held = await send(set);
      held.done();
      expect(held.value.text).toBe('ok');
    }
    expect(failing.hits()).toBe(2);
    expect(good.hits()).toBe(2);

    const refusing = await engine(() => ({ status: 400, body: '{"error":{"message":"bad audio"}}' }));
    servers.push(refusing.server);
    const strict = replicaSet([refusing.url, good.url]);
    const err = await send(strict).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe('The upstream engine for m refused the request: bad audio');
    expect(good.hits()).toBe(2);
  });

  it('moves on from a replica that does not answer in headersTimeoutMs and passes it over afterwards', async () => {
    const hanging = await engine(() => 'hang');
    const good = await engine(() => ({ status: 200, body: '{"text":"ok"}' }));
    servers.push(hanging.server, good.server);
    const set = replicaSet([hanging.url, good.url], { headersTimeoutMs: 200, downMs: 600_000 });
    (await send(set)).done();
    expect(hanging.hits()).toBe(1);
    expect(set.replicaStates().map((r) => r.up)).toEqual([false, true]);
    (await send(set)).done();
    expect(hanging.hits()).toBe(1);
    expect(good.hits()).toBe(2);
  });

  it('says which replica failed last when none could answer, and does not retry for a client that left', async () => {
    const down = await engine(() => ({ status: 503, body: '{"detail":"loading"}' }));
    servers.push(down.server);
    const set = replicaSet([down.url, down.url.replace('/v1', '/other/v1')]);
    const err = await send(set).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamsExhaustedError);
    expect((err as Error).message).toBe('model m is unavailable: none of its 2 upstream engines could answer (last: model m is unavailable: its upstream engine answered HTTP 503: loading)');
    expect(down.hits()).toBe(2);

    const hanging = await engine(() => 'hang');
    servers.push(hanging.server);
    const gone = new AbortController();
    const slow = replicaSet([hanging.url, down.url]);
    const pending = send(slow, gone.signal).catch((e: unknown) => e);
    while (hanging.hits() === 0) await new Promise((r) => setTimeout(r, 5));
    gone.abort();
    expect(await pending).not.toBeInstanceOf(UnavailableError);
    expect(down.hits()).toBe(2);
  });
});

describe('ReplicaSet health as /v1/models reads it', () => {
  it('answers once the first health round is in: up while one replica passes, down when none does', async () => {
    const up = await engine(() => ({ status: 200, body: '{"object":"list","data":[]}' }));
    servers.push(up.server);
    const nobody = `http://127.0.0.1:${await freePort()}/v1`;
    const mixed = replicaSet([nobody, up.url], { healthIntervalMs: 60_000 });
    const dead = replicaSet([nobody], { healthIntervalMs: 60_000 });
    mixed.start();
    dead.start();
    try {
      expect(await mixed.answering()).toBe(true);
      expect(await dead.answering()).toBe(false);
      expect(up.hits()).toBe(1);
    } finally {
      mixed.stop();
      dead.stop();
    }
  });

  it('with health checks off, counts a replica up until a request fails on it', async () => {
    const set = replicaSet([`http://127.0.0.1:${await freePort()}/v1`]);
    set.start();
    expect(await set.answering()).toBe(true);
    await expect(send(set)).rejects.toBeInstanceOf(UpstreamsExhaustedError);
    expect(await set.answering()).toBe(false);
  });
});
