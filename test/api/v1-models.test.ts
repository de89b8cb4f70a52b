import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/api/index.ts';
import { v1Routes } from '../../src/api/routes/v1/index.ts';
import { voiceAiRoutes, type VoiceAi } from '../../src/api/routes/v1/voice-ai.ts';
import { validateConfig } from '../../src/config/index.ts';
import { buildCoreApp, createCore, type Core } from '../../src/core.ts';
import { createInference, makeTestModels, type Inference } from '../../src/inference/index.ts';
import { silentLogger } from '../../src/logging/index.ts';
import { freePort } from '../helpers/free-port.ts';

// A real app (SQLite file, worker pool, generated ONNX models on disk) with the default model
// list: whisper-large-v3, orpheus-3b, snac-24khz and qwen3-0.6b configured, and no upstream
// engine (nothing listens for one on a fresh machine).
interface Setup {
  app: App;
  core: Core;
  inference: Inference;
  voiceAi: VoiceAi;
  dir: string;
  key: string;
}

async function setup(installed: readonly string[], upstreams: ReadonlyArray<{ model: string; baseUrl: string }> = []): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-models-'));
  const modelsDir = join(dir, 'models');
  if (installed.length > 0) makeTestModels(modelsDir, installed);
  const config = validateConfig({
    dataDir: dir,
    adminToken: 'test-admin-token-0123456789',
    upstreams: upstreams.map((u) => ({ ...u, upstreamModel: u.model })),
    inference: { modelsDir, workers: 1, session: { provider: 'cpu', intraOpThreads: 1 } },
  });
  const logger = silentLogger();
  const core = await createCore(config, logger);
  const inference = createInference(config, logger, new Registry());
  const voiceAi = voiceAiRoutes({ config, logger, clock: core.clock, store: core.store, inference });
  const app = await buildCoreApp(core, { apiRoutes: [(api) => api.register(v1Routes, { prefix: '/v1', ...voiceAi })] });
  return { app, core, inference, voiceAi, dir, key: (await core.apiKeys.create({ name: 't' })).key };
}

async function listIds(s: Setup): Promise<string[]> {
  const res = await s.app.inject({ url: '/api/v1/models', headers: { authorization: `Bearer ${s.key}` } });
  expect(res.statusCode).toBe(200);
  return (res.json() as { data: Array<{ id: string }> }).data.map((m) => m.id);
}

describe('GET /api/v1/models lists only models that can answer', () => {
  let current: Setup | undefined;
  afterEach(async () => {
    if (!current) return;
    await current.app.close();
    await current.voiceAi.close();
    await current.inference.close();
    await current.core.close();
    rmSync(current.dir, { recursive: true, force: true });
    current = undefined;
  });

  it('lists nothing when no configured model is installed (no upstream, no local files)', async () => {
    current = await setup([]);
    expect(await listIds(current)).toEqual([]);
    const id = await current.app.inject({ url: '/api/v1/models/qwen3-0.6b', headers: { authorization: `Bearer ${current.key}` } });
    expect(id.statusCode).toBe(404);
  });

  it('lists the installed chat and speech-to-text models, and each listed chat model answers', async () => {
    current = await setup(['qwen3-0.6b', 'whisper-large-v3']);
    const ids = await listIds(current);
    expect(ids.sort()).toEqual(['qwen3-0.6b', 'whisper-large-v3']);
    const res = await current.app.inject({
      method: 'POST',
      url: '/api/v1/chat/completions',
      headers: { authorization: `Bearer ${current.key}`, 'content-type': 'application/json' },
      payload: { model: 'qwen3-0.6b', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 4 },
    });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { object: string }).object).toBe('chat.completion');
  });

  it('lists an upstream engine\'s model while the engine answers, and not one whose engine is down', async () => {
    // A real loopback engine that answers GET /v1/models as vLLM does; the other port has nobody.
    const engine = createServer((req, res) => res.writeHead(req.url === '/v1/models' ? 200 : 404, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}'));
    await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve));
    try {
      const up = `http://127.0.0.1:${(engine.address() as AddressInfo).port}/v1`;
      const down = `http://127.0.0.1:${await freePort()}/v1`;
      current = await setup([], [{ model: 'Engine-Up', baseUrl: up }, { model: 'Engine-Down', baseUrl: down }]);
      expect(await listIds(current)).toEqual(['Engine-Up']);
    } finally {
      engine.closeAllConnections();
      await new Promise<void>((resolve) => engine.close(() => resolve()));
    }
  });

  it('lists an Orpheus model only while its SNAC decoder is installed, and never the decoder itself', async () => {
    current = await setup(['orpheus-3b']);
    expect(await listIds(current)).toEqual([]);
    await current.app.close();
    await current.voiceAi.close();
    await current.inference.close();
    await current.core.close();
    rmSync(current.dir, { recursive: true, force: true });
    current = await setup(['orpheus-3b', 'snac-24khz']);
    expect(await listIds(current)).toEqual(['orpheus-3b']);
  });
});
