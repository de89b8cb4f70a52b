import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import { v1Routes } from '../../src/api/routes/v1/index.ts';
import { voiceAiRoutes } from '../../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { ledgerMonth } from '../../src/metering/index.ts';
import { KEY_USAGE_KINDS, KeyUsageMeter } from '../../src/metering/index.ts';
import { UsageRepository } from '../../src/store/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { useTempDir } from '../helpers/temp-dir.ts';
import { LoopbackUpstream } from './upstream-server.ts';

const MODEL = 'Qwen3-Next-80B';

describe('chat completions through an upstream engine (openai SDK as the client)', () => {
  const tempDir = useTempDir();
  let upstream: LoopbackUpstream;
  let app: App;
  let core: Core;
  let client: OpenAI;
  let keyId: string;
  let gatewayUrl: string;

  async function start(baseUrl: string, extra: Record<string, unknown> = {}) {
    const config = validateConfig({
      dataDir: tempDir(),
      adminToken: 'test-admin-token-0123456789',
      log: { level: 'silent' },
      upstreams: [{ model: MODEL, baseUrl, upstreamModel: 'org/qwen-next-upstream', apiKey: 'sk-upstream-secret', ...extra }],
    });
    core = await createCore(config, silentLogger());
    // The gateway's composition of the /api/v1 chat routes, without the worker pool.
    app = await buildCoreApp(core, { apiRoutes: [(api) => api.register(v1Routes, { prefix: '/v1', ...voiceAiRoutes(core) })] });
    gatewayUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const created = await core.apiKeys.create({ name: 'chat' });
    keyId = created.id;
    client = new OpenAI({ apiKey: created.key, baseURL: `${gatewayUrl}/api/v1`, maxRetries: 0 });
  }

  /** The raw HTTP answer, for the spec's error body (the SDK keeps only `error`). */
  const post = async (body: unknown) =>
    fetch(`${gatewayUrl}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await core.apiKeys.create({ name: 'raw' })).key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const usage = () => new KeyUsageMeter(new UsageRepository(core.store.db)).forKey(keyId, ledgerMonth(Date.now()));

  beforeEach(async () => {
    upstream = new LoopbackUpstream();
  });
  afterEach(async () => {
    // The SDK's aborted sockets may linger on our side until their keep-alive ends.
    app?.server.closeAllConnections();
    await app?.close();
    await core?.close();
    await upstream.stop().catch(() => undefined);
  });

  it('answers a non-streamed completion with the upstream text under the gateway model name, and meters its usage', async () => {
    await start(await upstream.start());
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'What is AgentPhone?' },
      ],
      temperature: 0.2,
      max_tokens: 50,
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from upstream');
    expect(completion.model).toBe(MODEL);
    expect(completion.id).toMatch(/^chatcmpl-/);
    const seen = upstream.requests[0];
    expect(seen?.body.model).toBe('org/qwen-next-upstream');
    expect(seen?.body.temperature).toBe(0.2);
    expect(seen?.body.max_tokens).toBe(50);
    expect(seen?.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(await usage()).toEqual({ [KEY_USAGE_KINDS.chatPromptTokens]: 11, [KEY_USAGE_KINDS.chatCompletionTokens]: 3 });
  });

  it('uses the configured default model when the request names none (the spec example)', async () => {
    await start(await upstream.start());
    const key = (await core.apiKeys.create({ name: 'raw' })).key;
    const res = await fetch(`${gatewayUrl}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: false }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; choices: Array<{ message: { role: string; content: string } }> };
    expect(body.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hello from upstream' });
  });

  it('streams chunks as the upstream writes them, ends with [DONE], and adds usage only when asked', async () => {
    await start(await upstream.start());
    let released = () => {};
    const gate = new Promise<void>((resolve) => (released = resolve));
    // The upstream holds back every piece after the first until the client has seen the first:
    // a gateway that buffered the stream would never let this test finish.
    upstream.script = { pieces: ['one', ' two', ' three'], promptTokens: 5, before: (i) => (i === 0 ? Promise.resolve() : gate) };
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'count' }], stream: true });
    let text = '';
    const usages: unknown[] = [];
    for await (const chunk of stream) {
      expect(chunk.model).toBe(MODEL);
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usages.push(chunk.usage);
      if (text === 'one') released();
    }
    expect(text).toBe('one two three');
    expect(usages).toEqual([]);
    expect(upstream.requests[0]?.body.stream_options).toEqual({ include_usage: true });
    expect(await usage()).toEqual({ [KEY_USAGE_KINDS.chatPromptTokens]: 5, [KEY_USAGE_KINDS.chatCompletionTokens]: 3 });

    upstream.script = { pieces: ['a', 'b'], promptTokens: 2 };
    const withUsage = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    expect(chunks.at(-1)?.choices).toEqual([]);
  });

  it('writes data: lines and a final data: [DONE] on the wire', async () => {
    await start(await upstream.start());
    const key = (await core.apiKeys.create({ name: 'raw' })).key;
    const res = await fetch(`${gatewayUrl}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const raw = await res.text();
    const events = raw.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[0]!.slice(6))).toMatchObject({ object: 'chat.completion.chunk', model: MODEL });
  });

  it('cancels the upstream request when the client goes away mid-stream', async () => {
    await start(await upstream.start());
    const never = new Promise<void>(() => {});
    upstream.script = { pieces: ['first', 'never sent'], promptTokens: 1, before: (i) => (i === 0 ? Promise.resolve() : never) };
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: MODEL, messages: [{ role: 'user', content: 'go' }], stream: true },
      { signal: controller.signal },
    );
    const seen = upstream.requests[0]!;
    await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content === 'first') controller.abort();
    })().catch(() => undefined);
    await seen.aborted; // the test times out if the gateway kept the upstream request open
  });

  it('answers 503 with the reason when the upstream engine cannot be reached', async () => {
    await start(`http://127.0.0.1:${await freePort()}/v1`);
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(503);
    const raw = await post({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(raw.status).toBe(503);
    expect(await raw.json()).toMatchObject({
      error: { type: 'server_error' },
      message: expect.stringMatching(/^model Qwen3-Next-80B is unavailable: its upstream engine at 127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)$/),
    });
    const streamErr = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }).catch((e: unknown) => e);
    expect((streamErr as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
  });

  it('turns an upstream 400 into a 400 that carries its reason, and a 500 into a 503', async () => {
    await start(await upstream.start());
    upstream.script = { pieces: [], promptTokens: 0, refuse: { status: 400, body: { error: { message: 'max_tokens is too large: 999999' } } } };
    const bad = (await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(bad.status).toBe(400);
    const badRaw = await post({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(await badRaw.json()).toMatchObject({ error: { type: 'invalid_request_error' }, message: 'The upstream engine for Qwen3-Next-80B refused the request: max_tokens is too large: 999999' });
    upstream.script = { pieces: [], promptTokens: 0, refuse: { status: 500, body: { message: 'CUDA out of memory' } } };
    const down = await post({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    expect(down.status).toBe(503);
    expect(((await down.json()) as { message: string }).message).toBe('model Qwen3-Next-80B is unavailable: its upstream engine answered HTTP 500: CUDA out of memory');
  });

  it('answers 503 at capacity when every slot is busy and the wait line is full', async () => {
    await start(await upstream.start(), { maxConcurrency: 1, maxQueued: 0 });
    const never = new Promise<void>(() => {});
    upstream.script = { pieces: ['held', 'x'], promptTokens: 1, before: (i) => (i === 0 ? Promise.resolve() : never) };
    const controller = new AbortController();
    const held = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a' }], stream: true }, { signal: controller.signal });
    const second = await post({ model: MODEL, messages: [{ role: 'user', content: 'b' }] });
    expect(second.status).toBe(503);
    expect(((await second.json()) as { message: string }).message).toBe(
      'the upstream engine for Qwen3-Next-80B is at capacity (1 in flight, 0 waiting): try again shortly',
    );
    expect(upstream.requests).toHaveLength(1);
    controller.abort();
    await held[Symbol.asyncIterator]().next().catch(() => undefined);
    await upstream.requests[0]!.aborted;
  });

  it('lists upstream models in the OpenAI shape and 404s an unknown chat model', async () => {
    await start(await upstream.start());
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).toContainEqual({ id: MODEL, object: 'model', created: expect.any(Number), owned_by: expect.stringMatching(/^127\.0\.0\.1:/) });
    const err = (await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(404);
    expect(await (await post({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'model_not_found' },
      message: 'model "nope" does not exist; available for chat: Qwen3-Next-80B',
    });
  });

  it('requires an API key', async () => {
    await start(await upstream.start());
    const res = await fetch(`${gatewayUrl}/api/v1/models`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: 'authentication_error' }, message: 'Invalid or missing API key' });
  });
});
